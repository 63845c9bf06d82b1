package irsa_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/irsa"
	"github.com/openneuro/openneuro-infra/internal/infratest"
)

const (
	providerARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC123"
	issuerHost  = "oidc.eks.us-east-1.amazonaws.com/id/ABC123"
)

func TestTrustPolicy(t *testing.T) {
	cases := []struct {
		name                      string
		arn, issuer, ns, sa       string
		wantSub, wantKey, wantErr string
	}{
		{name: "issuer without scheme", arn: providerARN, issuer: issuerHost, ns: "kube-system", sa: "efs-csi-controller-sa",
			wantKey: issuerHost, wantSub: "system:serviceaccount:kube-system:efs-csi-controller-sa"},
		{name: "issuer with https scheme", arn: providerARN, issuer: "https://" + issuerHost, ns: "kube-system", sa: "aws-load-balancer-controller",
			wantKey: issuerHost, wantSub: "system:serviceaccount:kube-system:aws-load-balancer-controller"},
		{name: "other namespace", arn: providerARN, issuer: issuerHost, ns: "openneuro", sa: "api",
			wantKey: issuerHost, wantSub: "system:serviceaccount:openneuro:api"},
		{name: "not an OIDC provider ARN", arn: "arn:aws:iam::123456789012:role/x", issuer: issuerHost, ns: "a", sa: "b", wantErr: "not an IAM OIDC provider ARN"},
		{name: "empty issuer", arn: providerARN, issuer: "https://", ns: "a", sa: "b", wantErr: "empty or malformed"},
		{name: "no service account", arn: providerARN, issuer: issuerHost, ns: "a", wantErr: "must both be set"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := irsa.TrustPolicy(tc.arn, tc.issuer, tc.ns, tc.sa)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{
				"Version": "2012-10-17",
				"Statement": []any{map[string]any{
					"Effect":    "Allow",
					"Principal": map[string]any{"Federated": tc.arn},
					"Action":    "sts:AssumeRoleWithWebIdentity",
					"Condition": map[string]any{"StringEquals": map[string]any{
						tc.wantKey + ":sub": tc.wantSub,
						tc.wantKey + ":aud": "sts.amazonaws.com",
					}},
				}},
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(got), &doc); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, got)
			}
			if !reflect.DeepEqual(doc, want) {
				t.Errorf("trust policy\n got %s\nwant %v", got, want)
			}
		})
	}
}

func TestTrustPolicyIsDeterministic(t *testing.T) {
	a, _ := irsa.TrustPolicy(providerARN, issuerHost, "kube-system", "sa")
	for range 20 {
		if b, _ := irsa.TrustPolicy(providerARN, issuerHost, "kube-system", "sa"); b != a {
			t.Fatalf("two renders differ:\n%s\n%s", a, b)
		}
	}
}

func TestValuesJSON(t *testing.T) {
	cases := []struct {
		in   irsa.Values
		want string
	}{
		{irsa.Values{"*"}, `"*"`},
		{irsa.Values{"a", "b"}, `["a","b"]`},
		{irsa.Values{}, `[]`},
	}
	for _, tc := range cases {
		b, err := json.Marshal(tc.in)
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", tc.in, b, err, tc.want)
		}
		var back irsa.Values
		if err := json.Unmarshal(b, &back); err != nil || len(back) != len(tc.in) {
			t.Errorf("round trip of %s = %v, %v", b, back, err)
		}
	}
}

func TestAssumeRoleByService(t *testing.T) {
	got, err := irsa.AssumeRoleByService("ec2.amazonaws.com").JSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestNewRole runs the helper under the mocks: the role trusts exactly the service account, and
// every policy is attached under a name keyed by the policy, not by position.
func TestNewRole(t *testing.T) {
	var ready int
	rec := infratest.Run(t, "staging", infratest.WithProgram(func(ctx *pulumi.Context) error {
		role, err := irsa.NewRole(ctx, "test", &irsa.RoleArgs{
			OIDCProviderARN: pulumi.String(providerARN),
			OIDCIssuer:      pulumi.String(issuerHost),
			Namespace:       "kube-system",
			ServiceAccount:  "ebs-csi-controller-sa",
			Policies: map[string]pulumi.StringInput{
				"B": pulumi.String("arn:aws:iam::aws:policy/B"),
				"A": pulumi.String("arn:aws:iam::aws:policy/A"),
			},
		})
		if err != nil {
			return err
		}
		ready = len(role.Ready)
		return nil
	}))
	if ready != 3 {
		t.Errorf("Ready has %d resources, want the role and 2 attachments", ready)
	}
	role := rec.Find("aws:iam/role:Role", "test-role")
	if role == nil {
		t.Fatal("no role test-role")
	}
	want, _ := irsa.TrustPolicy(providerARN, issuerHost, "kube-system", "ebs-csi-controller-sa")
	if got := role.Plain(false)["assumeRolePolicy"]; got != want {
		t.Errorf("assumeRolePolicy = %v, want %s", got, want)
	}
	for key, arn := range map[string]string{"A": "arn:aws:iam::aws:policy/A", "B": "arn:aws:iam::aws:policy/B"} {
		att := rec.Find("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "test-"+key)
		if att == nil {
			t.Fatalf("no attachment test-%s", key)
		}
		if got := att.Plain(false)["policyArn"]; got != arn {
			t.Errorf("test-%s policyArn = %v, want %s", key, got, arn)
		}
	}
}

func TestNewRoleRequiresIdentity(t *testing.T) {
	_, err := infratest.RunStack("staging", infratest.WithProgram(func(ctx *pulumi.Context) error {
		_, err := irsa.NewRole(ctx, "test", &irsa.RoleArgs{OIDCProviderARN: pulumi.String(providerARN), OIDCIssuer: pulumi.String(issuerHost)})
		return err
	}))
	if err == nil || !strings.Contains(err.Error(), "Namespace and ServiceAccount are required") {
		t.Errorf("err = %v, want the missing service account reported", err)
	}
}
