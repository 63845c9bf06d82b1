package stacks

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// SecretSpec describes one secret config key. The key is the name of the environment variable it
// becomes (openneuro:JWT_SECRET -> JWT_SECRET), so a filled copy of the chart's secrets.yaml maps
// one to one.
type SecretSpec struct {
	// Key is the config key without the project namespace.
	Key SecretKey
	// Required secrets must be set; Load fails without them.
	Required bool
	// Group names an optional group emitted together (google, orcid, globus); "" for none.
	Group string
	// Trigger marks the key whose presence turns its group on, as the chart did.
	Trigger bool
	// AppEnv secrets go into the application Secret as environment variables.
	AppEnv bool
	// Description says what the value is for.
	Description string
	// Only names the one generation that reads the secret; "" for both. A secret of the other
	// generation is ignored (kept in the stack config, so that a migration can keep both sets),
	// never put into the application Secret.
	Only Generation
}

// For reports whether the secret belongs to generation g.
func (s SecretSpec) For(g Generation) bool { return s.Only == "" || s.Only == g }

// The example secrets file operators fill in is generated from SecretSpecs (`make generate`; `make
// lint` fails while it is out of date).
//go:generate sh -c "go run ../cmd/secrets --example > secrets.example.yaml.new && mv secrets.example.yaml.new secrets.example.yaml"

// SecretSpecs lists every secret in the order of the 2020 chart's Secret (OpenNeuroOrg/openneuro
// helm/openneuro/templates/secret.yaml, master of 2020-05-27, a6f39e8ec), the current chart's
// new keys beside the 2020 keys they replace (helm/openneuro/templates/secret.yaml at v5.5.1).
var SecretSpecs = []SecretSpec{
	{Key: SecretJWTSecret, Required: true, AppEnv: true, Description: "unique, truly random string that signs the JWT session tokens"},
	{Key: SecretGoogleClientID, Group: "google", AppEnv: true, Description: "Google OAuth client id"},
	{Key: SecretGoogleClientSecret, Group: "google", Trigger: true, AppEnv: true, Description: "Google OAuth client secret; set it to offer Google login"},
	{Key: SecretOrcidClientID, Group: "orcid", AppEnv: true, Description: "ORCID OAuth client id"},
	{Key: SecretOrcidClientSecret, Group: "orcid", Trigger: true, AppEnv: true, Description: "ORCID OAuth client secret; set it to offer ORCID login"},
	{Key: SecretOrcidAPIEndpoint, Group: "orcid", AppEnv: true, Description: "ORCID API endpoint; defaults to the ORCID sandbox, set https://pub.orcid.org/ for production"},
	{Key: SecretGlobusClientID, Group: "globus", AppEnv: true, Description: "Globus OAuth client id"},
	{Key: SecretGlobusClientSecret, Group: "globus", Trigger: true, AppEnv: true, Description: "Globus OAuth client secret; set it to offer Globus login"},
	{Key: SecretGithubClientID, Group: "github", AppEnv: true, Only: GenCurrent, Description: "GitHub OAuth client id (generation current)"},
	{Key: SecretGithubClientSecret, Group: "github", Trigger: true, AppEnv: true, Only: GenCurrent, Description: "GitHub OAuth client secret; set it to offer GitHub login (generation current)"},
	{Key: SecretCRNServerMailService, Required: true, AppEnv: true, Only: Gen2020, Description: "mail service name understood by nodemailer, e.g. mailgun (generation 2020)"},
	{Key: SecretCRNServerMailUser, Required: true, AppEnv: true, Only: Gen2020, Description: "mail service user (generation 2020)"},
	{Key: SecretCRNServerMailURL, Required: true, AppEnv: true, Only: Gen2020, Description: "source domain of outgoing mail (not a URL), e.g. mg.openneuro.org (generation 2020)"},
	{Key: SecretCRNServerMailPass, Required: true, AppEnv: true, Only: Gen2020, Description: "mail service password (the chart filled it from the user by mistake) (generation 2020)"},
	{Key: SecretCRNServerMailAPIKey, Required: true, AppEnv: true, Only: GenCurrent, Description: "Mailjet API key (generation current)"},
	{Key: SecretCRNServerMailAPISecret, Required: true, AppEnv: true, Only: GenCurrent, Description: "Mailjet API secret (generation current)"},
	{Key: SecretCRNServerMailFrom, Required: true, AppEnv: true, Only: GenCurrent, Description: "sender address of outgoing mail (generation current)"},
	{Key: SecretAWSRegion, Required: true, AppEnv: true, Description: "region of the dataset S3 buckets"},
	{Key: SecretAWSAccountID, Required: true, AppEnv: true, Description: "AWS account id of the dataset S3 buckets"},
	{Key: SecretAWSAccessKeyID, Required: true, AppEnv: true, Description: "access key of the IAM user with write access to the dataset buckets"},
	{Key: SecretAWSSecretAccessKey, Required: true, AppEnv: true, Description: "secret key of that IAM user"},
	{Key: SecretAWSS3PrivateBucket, Required: true, AppEnv: true, Description: "bucket for private dataset exports"},
	{Key: SecretAWSS3PublicBucket, Required: true, AppEnv: true, Description: "bucket for public dataset exports"},
	{Key: SecretGCPAccessKeyID, Required: true, AppEnv: true, Only: GenCurrent, Description: "HMAC access key of the Google Cloud Storage backup bucket, git-annex remote s3-BACKUP (generation current)"},
	{Key: SecretGCPSecretAccessKey, Required: true, AppEnv: true, Only: GenCurrent, Description: "HMAC secret of that key (generation current)"},
	{Key: SecretGCPS3BackupBucket, Required: true, AppEnv: true, Only: GenCurrent, Description: "Google Cloud Storage bucket of the dataset backups (generation current)"},
	{Key: SecretDataladGithubLogin, AppEnv: true, Only: Gen2020, Description: "GitHub user that pushes dataset exports (optional; generation 2020)"},
	{Key: SecretDataladGithubOrg, AppEnv: true, Description: "GitHub organization of the exported datasets (optional)"},
	{Key: SecretDataladGithubPass, AppEnv: true, Only: Gen2020, Description: "GitHub password or token of DATALAD_GITHUB_LOGIN (optional; generation 2020)"},
	{Key: SecretDataladGithubToken, AppEnv: true, Only: GenCurrent, Description: "GitHub token the dataset workers create export repositories with (optional; generation current)"},
	{Key: SecretDOIUsername, Required: true, AppEnv: true, Description: "DataCite user that mints DOIs"},
	{Key: SecretDOIPassword, Required: true, AppEnv: true, Description: "DataCite password"},
	{Key: SecretDOIPrefix, Required: true, AppEnv: true, Description: "DataCite DOI prefix, e.g. 10.18112"},
	{Key: SecretDOIURL, Required: true, AppEnv: true, Description: "DataCite MDS API URL"},
	{Key: SecretFlowerBasicAuth, Required: true, AppEnv: true, Only: Gen2020, Description: "user:password protecting the flower Celery dashboard (generation 2020)"},
	{Key: SecretMongoURL, Required: true, AppEnv: true, Description: "MongoDB connection string with credentials (MongoDB runs outside the cluster)"},
	{Key: SecretEngineAPIKey, AppEnv: true, Only: Gen2020, Description: "Apollo Engine API key (optional; generation 2020)"},
	{Key: SecretElasticsearchConnection, AppEnv: true, Description: "Elasticsearch URL with credentials, used by the API and the indexer (optional; search is off without it)"},
	{Key: SecretDataladSSHKey, Required: true, Description: "private SSH deploy key the dataset workers push to GitHub with; mounted at /datalad-key (mode 0400)"},
	{Key: SecretClusterKubeconfig, Description: "kubeconfig content for cluster.mode existing (optional; otherwise cluster.kubeconfig or the ambient kubeconfig)"},
}

// Secrets holds the secret values that are set, each a Pulumi secret output.
type Secrets struct {
	values map[SecretKey]pulumi.StringOutput
	// generation is app.generation: it decides which secrets go into the application Secret.
	generation Generation
}

// Has reports whether the secret key is set.
func (s Secrets) Has(key SecretKey) bool { _, ok := s.values[key]; return ok }

// Get returns the secret value of key; it panics on an unknown or unset key, a programming error.
func (s Secrets) Get(key SecretKey) pulumi.StringOutput {
	v, ok := s.values[key]
	if !ok {
		panic("stacks: secret " + string(key) + " is not set")
	}
	return v
}

// AppEnvKeys returns the keys of the application Secret, in spec order: every set AppEnv secret of
// the stack's generation, except optional groups whose trigger (the client secret) is unset, which
// the chart left out whole.
func (s Secrets) AppEnvKeys() []SecretKey {
	groupOn := map[string]bool{}
	for _, spec := range SecretSpecs {
		if spec.Trigger && s.Has(spec.Key) {
			groupOn[spec.Group] = true
		}
	}
	var keys []SecretKey
	for _, spec := range SecretSpecs {
		if !spec.AppEnv || !spec.For(s.gen()) || !s.Has(spec.Key) || (spec.Group != "" && !groupOn[spec.Group]) {
			continue
		}
		keys = append(keys, spec.Key)
	}
	return keys
}

// gen is the generation the secrets serve (the default for Secrets built without Load).
func (s Secrets) gen() Generation {
	if s.generation == "" {
		return GenCurrent
	}
	return s.generation
}

// Generation is the app.generation the secrets were loaded for.
func (s Secrets) Generation() Generation { return s.gen() }

// loadSecrets reads every secret key. The plain values stay inside this function, for the checks
// only; messages name keys, never values. A key set without --secret is refused: its value is in
// the stack file in plain text (and in git once committed), whatever the program does with it.
func loadSecrets(ctx *pulumi.Context, mode ClusterMode, gen Generation) (Secrets, error) {
	s := Secrets{values: map[SecretKey]pulumi.StringOutput{}, generation: gen}
	plain := map[SecretKey]string{}
	var errs []error
	for _, spec := range SecretSpecs {
		full := Project + ":" + string(spec.Key)
		raw, err := config.Try(ctx, full)
		if err != nil || raw == "" {
			continue
		}
		if !ctx.IsConfigSecret(full) {
			errs = append(errs, fmt.Errorf("%s: is stored in plain text in Pulumi.%s.yaml; set it again with "+
				"`pulumi config set --secret %s` (and change the value if the file was committed)", full, ctx.Stack(), spec.Key))
			continue
		}
		plain[spec.Key] = raw
		s.values[spec.Key] = pulumi.ToSecret(pulumi.String(raw)).(pulumi.StringOutput)
	}
	if len(errs) > 0 {
		return s, errors.Join(errs...)
	}
	return s, validateSecrets(plain, mode, gen)
}

func validateSecrets(plain map[SecretKey]string, mode ClusterMode, gen Generation) error {
	var errs []error
	add := func(key SecretKey, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%s: %s", Project, key, fmt.Sprintf(format, args...)))
	}
	for _, spec := range SecretSpecs {
		if spec.Required && spec.For(gen) && plain[spec.Key] == "" {
			add(spec.Key, "is required (%s); set it with `pulumi config set --secret %s` or `make secrets`", spec.Description, spec.Key)
		}
	}
	triggers := 0
	for _, spec := range SecretSpecs {
		if !spec.Trigger || !spec.For(gen) || plain[spec.Key] == "" {
			continue
		}
		triggers++
		id := SecretKey(strings.Replace(string(spec.Key), "_SECRET", "_ID", 1))
		if plain[id] == "" {
			add(id, "is required because %s is set; set the OAuth client id of the same app", spec.Key)
		}
	}
	if triggers == 0 && gen == Gen2020 {
		add(SecretGoogleClientSecret, "no login provider is configured; set at least one of GOOGLE_CLIENT_SECRET, ORCID_CLIENT_SECRET or GLOBUS_CLIENT_SECRET (with its _CLIENT_ID)")
	} else if triggers == 0 {
		add(SecretGoogleClientSecret, "no login provider is configured; set at least one of GOOGLE_CLIENT_SECRET, ORCID_CLIENT_SECRET, GITHUB_CLIENT_SECRET or GLOBUS_CLIENT_SECRET (with its _CLIENT_ID)")
	}
	if v := plain[SecretMongoURL]; v != "" && !strings.HasPrefix(v, "mongodb://") && !strings.HasPrefix(v, "mongodb+srv://") {
		add(SecretMongoURL, "is not a MongoDB connection string; it must start with mongodb:// or mongodb+srv://")
	}
	if v := plain[SecretFlowerBasicAuth]; v != "" && gen == Gen2020 && !strings.Contains(v, ":") {
		add(SecretFlowerBasicAuth, "must be user:password")
	}
	if v := plain[SecretDataladSSHKey]; v != "" && !strings.Contains(v, "PRIVATE KEY-----") {
		add(SecretDataladSSHKey, "is not a PEM/OpenSSH private key; load the key file's whole content (`make secrets` reads it from the secrets file)")
	}
	for _, key := range []SecretKey{SecretDOIURL, SecretElasticsearchConnection, SecretOrcidAPIEndpoint} {
		if v := plain[key]; v != "" {
			if u, err := url.Parse(v); err != nil || u.Scheme == "" || u.Host == "" {
				add(key, "is not an absolute URL")
			}
		}
	}
	if mode != ModeExisting && plain[SecretClusterKubeconfig] != "" {
		add(SecretClusterKubeconfig, "is only used with cluster.mode existing; remove it with `pulumi config rm CLUSTER_KUBECONFIG`")
	}
	return errors.Join(errs...)
}
