package preflight

import (
	"context"
	"fmt"
	"slices"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/acm"

	"github.com/openneuro/openneuro-infra/infra/dns"
)

// Certificate is what the check reads of an ACM certificate.
type Certificate struct {
	// Status is ACM's: ISSUED, PENDING_VALIDATION, EXPIRED, ...
	Status string
	// Names are its domain name and subject alternative names.
	Names []string
}

// DescribeCertificate reads an ACM certificate (acm:DescribeCertificate) in region with the AWS
// SDK's default credentials (those of the AWS provider, which reads the same environment and
// shared files), naming profile when the stack sets aws:profile. The Pulumi AWS provider has no
// lookup by ARN; tests replace this.
var DescribeCertificate = func(ctx context.Context, region, profile, arn string) (Certificate, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(region)}
	if profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(profile))
	}
	sdkConfig, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return Certificate{}, err
	}
	out, err := acm.NewFromConfig(sdkConfig).DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: &arn})
	if err != nil {
		return Certificate{}, err
	}
	detail := out.Certificate
	names := append([]string{awssdk.ToString(detail.DomainName)}, detail.SubjectAlternativeNames...)
	return Certificate{Status: string(detail.Status), Names: names}, nil
}

// certificate checks that app.certificateArn is ISSUED and covers the names the ALB serves
// (app.hostname and www.<hostname>): an ALB listener takes any certificate of its region, and a
// browser then refuses the site, or its www name, with nothing in the up to say why.
func certificate(ctx context.Context, region, profile, arn, hostname string) error {
	cert, err := DescribeCertificate(ctx, region, profile, arn)
	if err != nil {
		return fmt.Errorf("app.certificateArn: could not read the certificate %s (acm:DescribeCertificate in %s): %v; check the ARN with `aws acm list-certificates --region %s`", arn, region, err, region)
	}
	if cert.Status != "ISSUED" {
		fix := "request a new one, or set app.dns and the program requests and validates one"
		if cert.Status == "PENDING_VALIDATION" {
			fix = "create the DNS validation records that `aws acm describe-certificate --certificate-arn " + arn + "` lists, wait until it is ISSUED, and run again"
		}
		return fmt.Errorf("app.certificateArn: the certificate is %s, not ISSUED, and an ALB only serves an issued certificate; %s", cert.Status, fix)
	}
	var missing []string
	for _, name := range dns.Names(hostname) {
		if !slices.ContainsFunc(cert.Names, func(pattern string) bool { return covers(pattern, name) }) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("app.certificateArn: the certificate covers %s but not %s, which the ALB serves (the hostname, and www.<hostname> it redirects); request one for %s, or set app.dns and the program requests it", strings.Join(cert.Names, ", "), strings.Join(missing, ", "), strings.Join(dns.Names(hostname), " and "))
	}
	return nil
}

// covers reports whether a certificate name (example.org, or a wildcard *.example.org, which
// matches exactly one label) covers the host name.
func covers(pattern, name string) bool {
	pattern, name = strings.ToLower(strings.TrimSuffix(pattern, ".")), strings.ToLower(strings.TrimSuffix(name, "."))
	if parent, ok := strings.CutPrefix(pattern, "*."); ok {
		label, rest, found := strings.Cut(name, ".")
		return found && label != "" && rest == parent
	}
	return pattern == name
}
