package infratest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/openneuro/openneuro-infra/infra/dns"
	"github.com/openneuro/openneuro-infra/infra/preflight"
	"github.com/openneuro/openneuro-infra/stacks"
)

// The mock ACM of every run, by certificate ARN. preflight reads certificates through a package
// variable, not an invoke the mocks answer, so the runs of a test binary share one table: a
// certificate a test gives (WithCertificate) needs an ARN of its own, and app.certificateArn is
// otherwise an ISSUED certificate for the names of every stack that used it.
var acmTable = struct {
	sync.Mutex
	certs map[string]preflight.Certificate
	given map[string]bool
}{certs: map[string]preflight.Certificate{}, given: map[string]bool{}}

// WithCertificate gives the mock ACM a certificate (status ISSUED, PENDING_VALIDATION, ...) for
// names. Use an ARN no other test uses: the table is shared.
func WithCertificate(arn, status string, names ...string) Option {
	return func(s *runSettings) error {
		acmTable.Lock()
		defer acmTable.Unlock()
		cert := preflight.Certificate{Status: status, Names: names}
		if old, ok := acmTable.certs[arn]; ok && acmTable.given[arn] && !equalCert(old, cert) {
			return fmt.Errorf("infratest: certificate %s given twice, differently", arn)
		}
		acmTable.certs[arn], acmTable.given[arn] = cert, true
		return nil
	}
}

func equalCert(a, b preflight.Certificate) bool {
	return a.Status == b.Status && slices.Equal(a.Names, b.Names)
}

// issueConfigured makes the run's app.certificateArn, unless a test gave it, an issued
// certificate that covers the run's app.hostname (as the stacks' own certificates do).
func issueConfigured(config map[string]string) {
	var app struct {
		Hostname       string `json:"hostname"`
		CertificateARN string `json:"certificateArn"`
	}
	_ = json.Unmarshal([]byte(config[stacks.Project+":app"]), &app)
	if app.CertificateARN == "" {
		return
	}
	acmTable.Lock()
	defer acmTable.Unlock()
	if acmTable.given[app.CertificateARN] {
		return
	}
	cert := acmTable.certs[app.CertificateARN]
	cert.Status = "ISSUED"
	for _, name := range dns.Names(app.Hostname) {
		if !slices.Contains(cert.Names, name) {
			cert.Names = append(slices.Clone(cert.Names), name)
		}
	}
	acmTable.certs[app.CertificateARN] = cert
}

func init() {
	preflight.DescribeCertificate = func(_ context.Context, _, _, arn string) (preflight.Certificate, error) {
		acmTable.Lock()
		defer acmTable.Unlock()
		cert, ok := acmTable.certs[arn]
		if !ok {
			return cert, fmt.Errorf("ResourceNotFoundException: Could not find certificate %s", arn)
		}
		return cert, nil
	}
}

// WithoutCertificate makes arn a certificate the mock ACM does not have (ResourceNotFoundException).
func WithoutCertificate(arn string) Option {
	return func(s *runSettings) error {
		acmTable.Lock()
		defer acmTable.Unlock()
		delete(acmTable.certs, arn)
		acmTable.given[arn] = true
		return nil
	}
}
