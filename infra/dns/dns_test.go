package dns_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/infra/dns"
	"github.com/openneuro/openneuro-infra/internal/infratest"
)

const zoneID = "Z0MOCKOPENNEURO"

// withDNS is prod with app.dns instead of app.certificateArn, the zone in the mock account.
func withDNS(dnsValue string) []infratest.Option {
	return []infratest.Option{
		infratest.WithoutValue("app.certificateArn"), infratest.WithValue("app.dns", dnsValue),
		infratest.WithHostedZone(zoneID, "openneuro.org", false),
	}
}

// TestCertificateValidatedThroughTheZone: the certificate covers the hostname and www, one
// validation record per name carries exactly what ACM asks for, and the ALB's listener gets the
// certificate only once the validation resource (which waits until ACM issued it) is done.
func TestCertificateValidatedThroughTheZone(t *testing.T) {
	t.Parallel()
	for _, dnsValue := range []string{"openneuro.org", zoneID} {
		t.Run(dnsValue, func(t *testing.T) {
			rec := infratest.Run(t, "prod", withDNS(dnsValue)...)
			certs := rec.ByType("aws:acm/certificate:Certificate")
			if len(certs) != 1 {
				t.Fatalf("%d certificates, want 1", len(certs))
			}
			cert := certs[0]
			in := cert.Plain(false)
			if in["domainName"] != "openneuro.org" || !reflect.DeepEqual(in["subjectAlternativeNames"], []any{"www.openneuro.org"}) || in["validationMethod"] != "DNS" {
				t.Errorf("certificate %v, want openneuro.org + www.openneuro.org validated by DNS", in)
			}
			options := map[string]map[string]any{}
			for _, o := range cert.Outputs["domainValidationOptions"].Mappable().([]any) {
				m := o.(map[string]any)
				options[m["domainName"].(string)] = m
			}
			var fqdns []any
			for _, name := range dns.Names("openneuro.org") {
				r := rec.Find("aws:route53/record:Record", "certificate-validation-"+name)
				if r == nil {
					t.Fatalf("no validation record for %s", name)
				}
				got, want := r.Plain(false), options[name]
				if got["zoneId"] != zoneID || got["name"] != want["resourceRecordName"] || got["type"] != want["resourceRecordType"] ||
					!reflect.DeepEqual(got["records"], []any{want["resourceRecordValue"]}) {
					t.Errorf("validation record for %s: %v, want %v in zone %s", name, got, want, zoneID)
				}
				fqdns = append(fqdns, r.Outputs["fqdn"].StringValue())
			}
			validations := rec.ByType("aws:acm/certificateValidation:CertificateValidation")
			if len(validations) != 1 {
				t.Fatalf("%d certificate validations, want 1", len(validations))
			}
			// Far below the provider's 75 minutes: an undelegated zone fails the up in time.
			if got := validations[0].CreateTimeout; got != dns.ValidationTimeout || dns.ValidationTimeout != "30m" {
				t.Errorf("validation create timeout %q, want %s", got, dns.ValidationTimeout)
			}
			v := validations[0].Plain(false)
			if v["certificateArn"] != cert.Outputs["arn"].StringValue() || !reflect.DeepEqual(v["validationRecordFqdns"], fqdns) {
				t.Errorf("validation %v, want the certificate and both records %v", v, fqdns)
			}
			ing := rec.Find("kubernetes:networking.k8s.io/v1:Ingress", "openneuro-ingress")
			annotations := ing.Plain(false)["metadata"].(map[string]any)["annotations"].(map[string]any)
			if annotations["alb.ingress.kubernetes.io/certificate-arn"] != cert.Outputs["arn"].StringValue() {
				t.Errorf("the ALB uses %v, not the requested certificate", annotations["alb.ingress.kubernetes.io/certificate-arn"])
			}
			if !slices.Contains(ing.PropertyDependencies["metadata"], validations[0].URN) {
				t.Error("the Ingress does not wait for the certificate's validation")
			}
		})
	}
}

// TestAliasRecords: both names point at the ALB, by its DNS name and canonical hosted zone, with A
// records only (the ALB is IPv4 only).
func TestAliasRecords(t *testing.T) {
	t.Parallel()
	rec := infratest.Run(t, "prod", withDNS("openneuro.org")...)
	alb := rec.Calls("aws:lb/getLoadBalancer:getLoadBalancer")
	if len(alb) != 1 {
		t.Fatalf("%d load balancer lookups", len(alb))
	}
	ing := rec.Find("kubernetes:networking.k8s.io/v1:Ingress", "openneuro-ingress")
	albDNS := ing.Outputs["status"].ObjectValue()["loadBalancer"].ObjectValue()["ingress"].ArrayValue()[0].ObjectValue()["hostname"].StringValue()
	var names []string
	for _, r := range rec.DescendantsOfType(dns.RecordsType, "aws:route53/record:Record") {
		in := r.Plain(false)
		names = append(names, in["name"].(string))
		want := []any{map[string]any{"name": albDNS, "zoneId": infratest.ALBZoneID, "evaluateTargetHealth": true}}
		if in["type"] != "A" || in["zoneId"] != zoneID || !reflect.DeepEqual(in["aliases"], want) {
			t.Errorf("record %v, want an A alias to %s in zone %s", in, albDNS, zoneID)
		}
		if in["allowOverwrite"] == true {
			t.Errorf("record %s would silently take over an existing record", in["name"])
		}
	}
	if !reflect.DeepEqual(names, []string{"openneuro.org", "www.openneuro.org"}) {
		t.Errorf("alias records for %v, want openneuro.org and www.openneuro.org", names)
	}
}

// TestWithoutDNS: app.certificateArn alone creates no certificate and no record; the ALB uses it.
func TestWithoutDNS(t *testing.T) {
	t.Parallel()
	rec := infratest.Run(t, "prod")
	for _, r := range rec.Resources() {
		if strings.HasPrefix(r.Type, "aws:acm/") || strings.HasPrefix(r.Type, "aws:route53/") {
			t.Errorf("without app.dns the program creates %s %s", r.Type, r.Name)
		}
	}
	if n := len(rec.Calls("aws:route53/getZone:getZone")); n != 0 {
		t.Errorf("without app.dns the program looked up %d hosted zones", n)
	}
}

// TestHostedZoneChecked: a zone that does not exist, is private, or does not hold the hostname fails
// before any resource is registered, naming app.dns.
func TestHostedZoneChecked(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts []infratest.Option
		want string
	}{
		{"missing", []infratest.Option{infratest.WithoutValue("app.certificateArn"), infratest.WithValue("app.dns", "openneuro.org")},
			`app.dns: no public Route 53 hosted zone "openneuro.org" in this account`},
		{"private", []infratest.Option{infratest.WithoutValue("app.certificateArn"), infratest.WithValue("app.dns", zoneID), infratest.WithHostedZone(zoneID, "openneuro.org", true)},
			"app.dns: " + zoneID + " is a private hosted zone"},
		{"other zone", []infratest.Option{infratest.WithoutValue("app.certificateArn"), infratest.WithValue("app.dns", zoneID), infratest.WithHostedZone(zoneID, "example.org", false)},
			"app.dns: the zone example.org (" + zoneID + ") does not hold app.hostname openneuro.org"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, err := infratest.RunStack("prod", c.opts...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want %q, got %v", c.want, err)
			}
			if n := len(rec.Resources()); n != 0 {
				t.Errorf("%d resources registered before the check failed", n)
			}
		})
	}
}
