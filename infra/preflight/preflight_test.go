package preflight_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/internal/infratest"
)

const (
	account = "488777458602" // the account of prod's deploy role and certificate (Pulumi.prod.yaml)
	admin   = "arn:aws:iam::" + account + ":role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef"
	viewer  = "arn:aws:iam::" + account + ":role/openneuro-preview-prod"
)

// refusedBeforeAnything runs prod with opts and checks that it passes (want "") or fails with an
// error containing want before any resource is registered.
func refusedBeforeAnything(t *testing.T, want string, opts ...infratest.Option) {
	t.Helper()
	rec, err := infratest.RunStack("prod", opts...)
	if want == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("want %q, got %v", want, err)
	}
	if n := len(rec.Resources()); n != 0 {
		t.Errorf("%d resources registered before the preflight failed", n)
	}
}

func session(role string) string {
	return "arn:aws:sts::" + account + ":assumed-role/" + role + "/someone"
}

// TestWhoMayRun: the deploy role creates the cluster; once it exists, the admin roles may run
// anything and the viewer roles only previews; nobody else gets past the preflight, and a preview
// that would create the cluster as someone else only warns.
func TestWhoMayRun(t *testing.T) {
	t.Parallel()
	existing := infratest.WithExistingCluster("openneuro-prod")
	admins := infratest.WithValue("cluster.adminRoleArns", []string{admin})
	cases := []struct {
		name string
		opts []infratest.Option
		want string // "" = allowed
	}{
		{"first up as the deploy role", nil, ""},
		{"first up as an admin", []infratest.Option{admins, infratest.WithCaller(session("AWSReservedSSO_Admin_0123456789abcdef"), account)},
			"cluster.deployRoleArn: this run would create EKS cluster openneuro-prod as " + session("AWSReservedSSO_Admin_0123456789abcdef") + ", and EKS makes the identity that creates a cluster its admin for good; run the first pulumi up as arn:aws:iam::" + account + ":role/openneuro-deploy-prod"},
		{"first preview as an admin", []infratest.Option{admins, infratest.WithPreview(), infratest.WithCaller(session("AWSReservedSSO_Admin_0123456789abcdef"), account)}, ""},
		{"later up as an admin", []infratest.Option{existing, admins, infratest.WithCaller(session("AWSReservedSSO_Admin_0123456789abcdef"), account)}, ""},
		{"later up as the deploy role", []infratest.Option{existing}, ""},
		{"later preview as the viewer", []infratest.Option{existing, infratest.WithPreview(), infratest.WithCaller(session("openneuro-preview-prod"), account)}, ""},
		{"later up as the viewer", []infratest.Option{existing, infratest.WithCaller(session("openneuro-preview-prod"), account)},
			"cluster.viewerRoleArns: " + session("openneuro-preview-prod") + " may only preview cluster openneuro-prod"},
		{"later up as an unlisted role", []infratest.Option{existing, infratest.WithCaller(session("Someone"), account)},
			"cluster.adminRoleArns: " + session("Someone") + " has no access entry on cluster openneuro-prod, so every Kubernetes call would fail with Unauthorized"},
		{"later preview as an unlisted role", []infratest.Option{existing, infratest.WithPreview(), infratest.WithCaller(session("Someone"), account)},
			"has no access entry on cluster openneuro-prod"},
		{"an IAM user", []infratest.Option{existing, infratest.WithCaller("arn:aws:iam::"+account+":user/laptop", account)},
			"cluster.adminRoleArns: arn:aws:iam::" + account + ":user/laptop has no access entry"},
		{"another account", []infratest.Option{infratest.WithCaller("arn:aws:sts::123456789012:assumed-role/openneuro-deploy-prod/x", "123456789012")},
			"cluster.deployRoleArn: is a role of account " + account + " but this run uses account 123456789012"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			refusedBeforeAnything(t, c.want, c.opts...)
		})
	}
}

// TestZonesOfTheRegion: zones the region does not list (in this account) fail before anything is
// created, with the region's real zones in the message.
func TestZonesOfTheRegion(t *testing.T) {
	t.Parallel()
	_, err := infratest.RunStack("prod", infratest.WithAvailabilityZones(
		[]string{"us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"}, []string{"usw2-az2", "usw2-az1", "usw2-az3", "usw2-az4"}),
		infratest.WithValue("network.availabilityZones", []string{"usw2-az1", "usw2-az2", "usw2-az5"}))
	want := `network.availabilityZones[2]: "usw2-az5" is not a zone of us-west-2 in this account; its zones are us-west-2a, us-west-2b, us-west-2c, us-west-2d (IDs usw2-az2, usw2-az1, usw2-az3, usw2-az4)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("want %q, got %v", want, err)
	}
	if strings.Contains(err.Error(), "usw2-az1\"") {
		t.Errorf("a listed zone was rejected: %v", err)
	}
}

// TestCertificateOfTheAccount: an ALB cannot use another account's certificate.
func TestCertificateOfTheAccount(t *testing.T) {
	t.Parallel()
	_, err := infratest.RunStack("prod", infratest.WithValue("app.certificateArn", "arn:aws:acm:us-west-2:111122223333:certificate/6883342b-63ac-4466-b3f8-d9a8dd80bfaa"))
	want := "app.certificateArn: the certificate belongs to account 111122223333 but this stack deploys into account " + account
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("want %q, got %v", want, err)
	}
}

// TestCertificateIssuedForTheSite: app.certificateArn must be ISSUED and cover the hostname and
// www.<hostname>, which the ALB serves; a wildcard covers one label. A certificate that is not
// (or cannot be read) fails before anything is registered, naming the key and the fix.
func TestCertificateIssuedForTheSite(t *testing.T) {
	t.Parallel()
	arn := func(n int) string {
		return fmt.Sprintf("arn:aws:acm:us-west-2:%s:certificate/00000000-0000-4000-8000-%012d", account, n)
	}
	cases := []struct {
		name   string
		status string
		names  []string
		want   string // "" = allowed
	}{
		{"issued for both names", "ISSUED", []string{"openneuro.org", "www.openneuro.org"}, ""},
		{"issued, wildcard", "ISSUED", []string{"openneuro.org", "*.openneuro.org"}, ""},
		{"pending", "PENDING_VALIDATION", []string{"openneuro.org", "www.openneuro.org"},
			"app.certificateArn: the certificate is PENDING_VALIDATION, not ISSUED, and an ALB only serves an issued certificate; create the DNS validation records"},
		{"expired", "EXPIRED", []string{"openneuro.org", "www.openneuro.org"},
			"app.certificateArn: the certificate is EXPIRED, not ISSUED, and an ALB only serves an issued certificate; request a new one, or set app.dns"},
		{"no www", "ISSUED", []string{"openneuro.org"},
			"app.certificateArn: the certificate covers openneuro.org but not www.openneuro.org, which the ALB serves"},
		{"another domain's wildcard", "ISSUED", []string{"*.example.org"},
			"app.certificateArn: the certificate covers *.example.org but not openneuro.org, www.openneuro.org"},
		{"wildcard two labels up", "ISSUED", []string{"*.openneuro.org", "example.org"},
			"but not openneuro.org, which the ALB serves"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			refusedBeforeAnything(t, c.want, infratest.WithValue("app.certificateArn", arn(i+1)), infratest.WithCertificate(arn(i+1), c.status, c.names...))
		})
	}
	_, err := infratest.RunStack("prod", infratest.WithValue("app.certificateArn", arn(999)), infratest.WithoutCertificate(arn(999)))
	if want := "app.certificateArn: could not read the certificate " + arn(999) + " (acm:DescribeCertificate in us-west-2)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("an unknown certificate: want %q, got %v", want, err)
	}
}

// TestStorageGroupFollowsTheControlPlane: an upgrade of the control plane the storage node group,
// which does not roll, would be left behind by is refused before anything is registered, naming
// the renewal and the version to keep; the same version, a group that rolls, a group already
// behind a control plane at the configured version (the renewal's first steps must run), or a
// first up (no group yet) pass.
func TestStorageGroupFollowsTheControlPlane(t *testing.T) {
	t.Parallel()
	const group, name = "cluster-edgefs-target-0a1b2c3", "openneuro-staging"
	live := func(controlPlane, version string, more ...infratest.Option) []infratest.Option {
		return append([]infratest.Option{infratest.WithExistingCluster(name), infratest.WithClusterVersion(name, controlPlane),
			infratest.WithLiveNodeGroup(group, 3, 3, 3), infratest.WithLiveNodeGroupVersion(group, version)}, more...)
	}
	rec, err := infratest.RunStack("staging", live("1.34", "1.34")...)
	want := "cluster.kubernetesVersion: 1.35, but the edgefs-target node group runs 1.34 and does not roll"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "or keep kubernetesVersion at 1.34") {
		t.Errorf("want %q and the version to keep, got %v", want, err)
	}
	if rec != nil && len(rec.Resources()) > 0 {
		t.Errorf("%d resources registered before the refusal", len(rec.Resources()))
	}
	for name, opts := range map[string][]infratest.Option{
		"same version":   live("1.35", "1.35"),
		"rolls":          live("1.34", "1.34", infratest.WithValue("cluster.edgefsNodeGroup.rollNodes", true)),
		"already behind": live("1.35", "1.34"),
		"first up":       nil,
	} {
		if _, err := infratest.RunStack("staging", opts...); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
