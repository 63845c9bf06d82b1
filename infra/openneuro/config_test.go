package openneuro_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
	"github.com/openneuro/openneuro-infra/stacks"
)

func TestConfigMap(t *testing.T) {
	o := layerObjects(t, run(t, "staging", nil))
	equal(t, "data (chart section 2.4 + LOCPATH)", o.configMap(t, name("configmap")).Data, map[string]string{
		"CRN_SERVER_URL":              "https://openneuro.staging.sqm.io",
		"GRAPHQL_URI":                 "https://openneuro.staging.sqm.io/crn/graphql",
		"GRAPHQL_ENDPOINT":            "http://openneuro-staging-api:8111/crn/graphql",
		"DATALAD_WORKERS":             "4",
		"DATALAD_SERVICE_URI":         "openneuro-staging-datalad-service:9877",
		"DATALAD_S3_PUBLIC_ON_EXPORT": "yes",
		"REDIS_HOST":                  "openneuro-staging-redis-master",
		"REDIS_PORT":                  "6379",
		"ENVIRONMENT":                 "staging",
		"FRESH_DESK_URL":              stacks.DefaultFreshDeskURL,
		"GOOGLE_TRACKING_ID":          "UA-100754266-1",
		"LOCPATH":                     "",
		// ORCID login is on (ORCID_CLIENT_SECRET): token refresh needs both (v3.14.2 libs/orcid.js).
		"ORCID_URI":          "https://orcid.org",
		"ORCID_REDIRECT_URI": "https://openneuro.staging.sqm.io/crn/auth/orcid/callback",
	})
	t.Run("no ORCID settings without ORCID login", func(t *testing.T) {
		data := layerObjects(t, run(t, "staging", nil, infratest.WithoutValue("ORCID_CLIENT_SECRET"))).configMap(t, name("configmap")).Data
		for _, key := range []string{"ORCID_URI", "ORCID_REDIRECT_URI"} {
			if v, ok := data[key]; ok {
				t.Errorf("%s = %q without ORCID login", key, v)
			}
		}
	})
	t.Run("sentry and S3 export visibility", func(t *testing.T) {
		o := layerObjects(t, run(t, "staging", nil,
			infratest.WithValue("app.sentryDsn", "https://abc123@o1.ingest.sentry.io/42"),
			infratest.WithValue("app.s3PublicOnExport", false)))
		data := o.configMap(t, name("configmap")).Data
		equal(t, "SENTRY_DSN", data["SENTRY_DSN"], "https://abc123@o1.ingest.sentry.io/42")
		equal(t, "DATALAD_S3_PUBLIC_ON_EXPORT", data["DATALAD_S3_PUBLIC_ON_EXPORT"], "no")
	})
	t.Run("no placeholder secret leaks into it", func(t *testing.T) {
		for key, value := range o.configMap(t, name("configmap")).Data {
			for _, secret := range stackconfig.SecretPlaceholders() {
				if value == secret {
					t.Errorf("%s holds a secret", key)
				}
			}
		}
	})
}

func TestSecret(t *testing.T) {
	rec := run(t, "staging", nil)
	o := layerObjects(t, rec)
	placeholders := stackconfig.SecretPlaceholders()
	secret := o.secret(t, name("secret"))
	want := map[string]string{"DATALAD_GITHUB_EXPORTS_ENABLED": "true"}
	for _, spec := range stacks.SecretSpecs {
		if spec.AppEnv && spec.For(stacks.Gen2020) {
			want[string(spec.Key)] = placeholders[string(spec.Key)]
		}
	}
	equal(t, "stringData: every set application secret from its own key", secret.StringData, want)
	equal(t, "CRN_SERVER_MAIL_URL is not the mail user (chart bug)", secret.StringData["CRN_SERVER_MAIL_URL"], placeholders["CRN_SERVER_MAIL_URL"])
	equal(t, "CRN_SERVER_MAIL_PASS is not the mail user (chart bug)", secret.StringData["CRN_SERVER_MAIL_PASS"], placeholders["CRN_SERVER_MAIL_PASS"])
	equal(t, "type", string(secret.Type), "Opaque")
	if _, ok := secret.StringData["DATALAD_SSH_KEY"]; ok {
		t.Error("the SSH key belongs in its own Secret, not in every container's environment")
	}

	// Every value that comes from a Pulumi secret stays one in the inputs (state, preview).
	res := o.get(t, "Secret", name("secret"))
	stringData := res.Inputs["stringData"]
	for _, key := range []string{"JWT_SECRET", "MONGO_URL", "AWS_SECRET_ACCESS_KEY"} {
		v := stringData
		if !v.IsSecret() {
			v = stringData.ObjectValue()[resource.PropertyKey(key)]
		}
		if !v.IsSecret() && (!v.IsOutput() || !v.OutputValue().Secret) {
			t.Errorf("%s is not a Pulumi secret in the Secret's inputs", key)
		}
	}

	t.Run("optional groups only when their client secret is set", func(t *testing.T) {
		o := layerObjects(t, run(t, "staging", nil,
			infratest.WithoutValue("GLOBUS_CLIENT_SECRET"), infratest.WithoutValue("ORCID_CLIENT_SECRET"),
			infratest.WithoutValue("ENGINE_API_KEY"), infratest.WithValue("app.githubExportsEnabled", false)))
		data := o.secret(t, name("secret")).StringData
		for _, key := range []string{"GLOBUS_CLIENT_ID", "GLOBUS_CLIENT_SECRET", "ORCID_CLIENT_ID", "ORCID_CLIENT_SECRET", "ORCID_API_ENDPOINT", "ENGINE_API_KEY"} {
			if _, ok := data[key]; ok {
				t.Errorf("%s is set although its group is off", key)
			}
		}
		for _, key := range []string{"GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "JWT_SECRET"} {
			if _, ok := data[key]; !ok {
				t.Errorf("%s is missing", key)
			}
		}
		// The DataLad service tests the variable for truth as a string: "false" would be on.
		equal(t, "DATALAD_GITHUB_EXPORTS_ENABLED", data["DATALAD_GITHUB_EXPORTS_ENABLED"], "")
	})
}

// TestGithubExports: exports are on exactly when their three credentials are set, unless the
// stack says otherwise; on without them is refused.
func TestGithubExports(t *testing.T) {
	without := []infratest.Option{infratest.WithoutValue("DATALAD_GITHUB_LOGIN"), infratest.WithoutValue("DATALAD_GITHUB_ORG"), infratest.WithoutValue("DATALAD_GITHUB_PASS")}
	data := layerObjects(t, run(t, "staging", nil, without...)).secret(t, name("secret")).StringData
	equal(t, "exports without credentials", data["DATALAD_GITHUB_EXPORTS_ENABLED"], "")
	data = layerObjects(t, run(t, "staging", nil)).secret(t, name("secret")).StringData
	equal(t, "exports with credentials", data["DATALAD_GITHUB_EXPORTS_ENABLED"], "true")
	_, err := infratest.RunStack("staging", append(without, infratest.WithProgram(layer(nil)), infratest.WithValue("app.githubExportsEnabled", true))...)
	want := "app.githubExportsEnabled: is true but the secrets DATALAD_GITHUB_LOGIN, DATALAD_GITHUB_ORG, DATALAD_GITHUB_PASS are not set"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("exports on without credentials: %v, want an error containing %q", err, want)
	}
}

func TestSSHKeySecret(t *testing.T) {
	o := layerObjects(t, run(t, "staging", nil))
	key := o.secret(t, name("ssh-key")).StringData
	equal(t, "datalad-key", key, map[string]string{"datalad-key": stackconfig.SecretPlaceholders()["DATALAD_SSH_KEY"]})

	t.Run("a key without its final newline gets one (OpenSSH requires it)", func(t *testing.T) {
		pem := "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----"
		o := layerObjects(t, run(t, "staging", nil, infratest.WithSecret("DATALAD_SSH_KEY", pem)))
		equal(t, "datalad-key", o.secret(t, name("ssh-key")).StringData["datalad-key"], pem+"\n")
	})
}

// TestRolloutChecksums: the pod templates of the ConfigMap and Secret consumers carry checksums of
// their content; the Secret's stays a Pulumi secret.
func TestRolloutChecksums(t *testing.T) {
	o := layerObjects(t, run(t, "staging", nil))
	data := o.configMap(t, name("configmap")).Data
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	configSum := hex.EncodeToString(sum[:])

	secretData := o.secret(t, name("secret")).StringData
	b, err = json.Marshal(secretData)
	if err != nil {
		t.Fatal(err)
	}
	sum = sha256.Sum256(b)
	secretSum := hex.EncodeToString(sum[:])

	consumers := []string{"api", "datalad-service", "dataset-worker", "beat-scheduler", "flower"}
	for _, c := range consumers {
		ann := o.podTemplate(t, name(c)).Annotations
		equal(t, c+" checksum/config", ann["checksum/config"], configSum)
		equal(t, c+" checksum/secret", ann["checksum/secret"], secretSum)
	}
	for _, c := range []string{"web", "redis-master"} {
		if ann := o.podTemplate(t, name(c)).Annotations; len(ann) != 0 {
			t.Errorf("%s reads no configuration but has %v", c, ann)
		}
	}

	// The secret checksum is a secret in the inputs: the preview shows [secret], never a hash.
	for _, c := range []struct{ kind, component string }{{"Deployment", "api"}, {"StatefulSet", "dataset-worker"}} {
		res := o.get(t, c.kind, name(c.component))
		redacted := res.Plain(true)
		ann := dig(redacted, "spec", "template", "metadata", "annotations").(map[string]any)
		equal(t, c.component+" redacted checksum/secret", ann["checksum/secret"], any(infratest.Redacted))
		equal(t, c.component+" plain checksum/config", ann["checksum/config"], any(configSum))
		if dig(redacted, "spec", "template", "spec") == infratest.Redacted {
			t.Errorf("%s: the whole pod spec became secret", c.component)
		}
	}

	keySum := sha256.Sum256(mustJSON(t, o.secret(t, name("ssh-key")).StringData))
	equal(t, "worker checksum/ssh-key", o.podTemplate(t, name("dataset-worker")).Annotations["checksum/ssh-key"], hex.EncodeToString(keySum[:]))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dig walks nested maps.
func dig(m any, path ...string) any {
	for _, p := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			return m
		}
		m = mm[p]
	}
	return m
}
