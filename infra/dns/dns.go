// Package dns gives the site its name when the stack sets app.dns: the ACM certificate for
// <hostname> and www.<hostname>, validated through records in the Route 53 hosted zone
// (NewCertificate, before the ALB needs it), and the alias records of both names to the ALB
// (NewRecords, once the load balancer controller has made it).
package dns

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Type tokens of the package's two components.
const (
	CertificateType = "openneuro:dns:Certificate"
	RecordsType     = "openneuro:dns:Records"
)

// validationTTL is the TTL of the validation records, in seconds: ACM only needs them to resolve.
const validationTTL = 300

// CertificateArgs configure NewCertificate.
type CertificateArgs struct {
	// ZoneID is the Route 53 public hosted zone holding Hostname. Required.
	ZoneID string
	// Hostname is the site's name; the certificate also covers www.<Hostname>. Required.
	Hostname string
}

// Certificate is an ACM certificate that DNS validation has issued.
type Certificate struct {
	pulumi.ResourceState

	// ARN is the certificate's ARN, known only once ACM has issued it: whatever uses it (the ALB's
	// HTTPS listener) waits for the validation.
	ARN pulumi.StringOutput `pulumi:"arn"`
}

// Names are the names the site answers to: the hostname and www.<hostname>, which the ALB redirects
// to the hostname.
func Names(hostname string) []string { return []string{hostname, "www." + hostname} }

// NewCertificate requests the certificate for Names(hostname) in the stack's region, creates its
// DNS validation records and waits until ACM has issued it.
func NewCertificate(ctx *pulumi.Context, name string, args *CertificateArgs, opts ...pulumi.ResourceOption) (*Certificate, error) {
	if args == nil || args.ZoneID == "" || args.Hostname == "" {
		return nil, errors.New("dns: certificate: ZoneID and Hostname are required")
	}
	comp := &Certificate{}
	if err := ctx.RegisterComponentResource(CertificateType, name, comp, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(comp)
	names := Names(args.Hostname)
	cert, err := acm.NewCertificate(ctx, name+"-acm", &acm.CertificateArgs{
		DomainName:              pulumi.String(names[0]),
		SubjectAlternativeNames: pulumi.ToStringArray(names[1:]),
		ValidationMethod:        pulumi.String("DNS"),
		Tags:                    pulumi.StringMap{"Name": pulumi.String(args.Hostname)},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("dns: certificate: %w", err)
	}
	// One validation record per name, keyed by the name (not by the position ACM lists it at).
	var fqdns pulumi.StringArray
	for _, n := range names {
		opt := validationOption(cert, n)
		rec, err := route53.NewRecord(ctx, name+"-validation-"+n, &route53.RecordArgs{
			ZoneId:  pulumi.String(args.ZoneID),
			Name:    opt.ResourceRecordName().Elem(),
			Type:    opt.ResourceRecordType().Elem(),
			Records: pulumi.StringArray{opt.ResourceRecordValue().Elem()},
			Ttl:     pulumi.Int(validationTTL),
			// ACM gives the same record for the same name in an account: a certificate requested
			// again (a replacement, a second stack) takes over the existing record.
			AllowOverwrite: pulumi.Bool(true),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("dns: validation record %s: %w", n, err)
		}
		fqdns = append(fqdns, rec.Fqdn)
	}
	// ACM validates through records in a delegated zone within minutes; the provider's own timeout
	// is 75 minutes, which an undelegated zone (preflight checks it when DNS answers) or a wrong
	// record would spend whole before failing. 30 minutes leaves room for a slow ACM; an up that
	// times out waits again on the next up, the certificate and records kept.
	validation, err := acm.NewCertificateValidation(ctx, name+"-validation", &acm.CertificateValidationArgs{
		CertificateArn:        cert.Arn,
		ValidationRecordFqdns: fqdns,
	}, parent, pulumi.Timeouts(&pulumi.CustomTimeouts{Create: ValidationTimeout}))
	if err != nil {
		return nil, fmt.Errorf("dns: certificate validation: %w", err)
	}
	comp.ARN = validation.CertificateArn
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{"arn": comp.ARN}); err != nil {
		return nil, err
	}
	return comp, nil
}

// ValidationTimeout is how long an up waits for ACM to issue the certificate.
const ValidationTimeout = "30m"

// validationOption is the certificate's DNS validation record for one of its names.
func validationOption(cert *acm.Certificate, name string) acm.CertificateDomainValidationOptionOutput {
	return cert.DomainValidationOptions.ApplyT(func(opts []acm.CertificateDomainValidationOption) (acm.CertificateDomainValidationOption, error) {
		for _, o := range opts {
			if o.DomainName != nil && *o.DomainName == name {
				return o, nil
			}
		}
		return acm.CertificateDomainValidationOption{}, fmt.Errorf("dns: ACM returned no validation record for %s", name)
	}).(acm.CertificateDomainValidationOptionOutput)
}

// RecordsArgs configure NewRecords.
type RecordsArgs struct {
	// ZoneID is the Route 53 public hosted zone holding Hostname. Required.
	ZoneID string
	// Hostname is the site's name; www.<Hostname> gets a record too. Required.
	Hostname string
	// LoadBalancerDNSName and LoadBalancerZoneID are the ALB's DNS name and canonical hosted zone
	// id. Required.
	LoadBalancerDNSName pulumi.StringInput
	LoadBalancerZoneID  pulumi.StringInput
}

// Records are the site's alias records.
type Records struct {
	pulumi.ResourceState

	// FQDNs are the names that now point at the ALB.
	FQDNs pulumi.StringArrayOutput `pulumi:"fqdns"`
}

// NewRecords points Names(hostname) at the ALB with alias A records. The VPC has no IPv6, so the ALB
// is IPv4 only (the controller's default ip-address-type) and AAAA records would answer nothing. An
// existing record of the same name is not overwritten: the create fails, and the operator removes
// or imports it, so that a name served elsewhere never moves without a decision.
func NewRecords(ctx *pulumi.Context, name string, args *RecordsArgs, opts ...pulumi.ResourceOption) (*Records, error) {
	if args == nil || args.ZoneID == "" || args.Hostname == "" || args.LoadBalancerDNSName == nil || args.LoadBalancerZoneID == nil {
		return nil, errors.New("dns: records: ZoneID, Hostname, LoadBalancerDNSName and LoadBalancerZoneID are required")
	}
	comp := &Records{}
	if err := ctx.RegisterComponentResource(RecordsType, name, comp, opts...); err != nil {
		return nil, err
	}
	var fqdns pulumi.StringArray
	for _, n := range Names(args.Hostname) {
		rec, err := route53.NewRecord(ctx, name+"-"+n, &route53.RecordArgs{
			ZoneId: pulumi.String(args.ZoneID),
			Name:   pulumi.String(n),
			Type:   pulumi.String("A"),
			Aliases: route53.RecordAliasArray{route53.RecordAliasArgs{
				Name:                 args.LoadBalancerDNSName,
				ZoneId:               args.LoadBalancerZoneID,
				EvaluateTargetHealth: pulumi.Bool(true),
			}},
		}, pulumi.Parent(comp))
		if err != nil {
			return nil, fmt.Errorf("dns: record %s: %w", n, err)
		}
		fqdns = append(fqdns, rec.Fqdn)
	}
	comp.FQDNs = fqdns.ToStringArrayOutput()
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{"fqdns": comp.FQDNs}); err != nil {
		return nil, err
	}
	return comp, nil
}
