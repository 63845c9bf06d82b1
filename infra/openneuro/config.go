package openneuro

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Keys and names of the configuration objects.
const (
	// githubExportsKey is the one plain value of the application Secret; the chart kept it there.
	githubExportsKey = "DATALAD_GITHUB_EXPORTS_ENABLED"
	// sshKeySecretKey is the key of the SSH key Secret, and the file name in the workers.
	sshKeySecretKey = "datalad-key"
	sshKeySecretRef = "DATALAD_SSH_KEY"
)

// configData is the ConfigMap of reference/openneuro-chart.md section 2.4, plus LOCPATH (section
// 3.2) and SENTRY_DSN when set. Everything in it is plain configuration; secrets go to the Secret.
func (b *builder) configData() map[string]string {
	c := b.cfg
	data := map[string]string{
		"CRN_SERVER_URL": c.URL,
		// The public GraphQL URL, used by the indexer.
		"GRAPHQL_URI": c.GraphQLURI,
		// The in-cluster GraphQL endpoint, used by the DataLad service and workers.
		"GRAPHQL_ENDPOINT": fmt.Sprintf("http://%s:%d/crn/graphql", b.objectName(compAPI), apiPort),
		// The shard count: the workers hash every dataset to one of DATALAD_WORKERS queues, so it
		// must equal the StatefulSet's replicas (both come from app.workers).
		"DATALAD_WORKERS":             strconv.Itoa(c.Workers),
		"DATALAD_SERVICE_URI":         fmt.Sprintf("%s:%d", b.objectName(compDatalad), dataladPort),
		"DATALAD_S3_PUBLIC_ON_EXPORT": yesNo(boolOr(c.S3PublicOnExport, true)),
		"REDIS_HOST":                  b.objectName(redisMasterSuffix),
		"REDIS_PORT":                  strconv.Itoa(redisPort),
		"ENVIRONMENT":                 c.Environment,
		"FRESH_DESK_URL":              c.FreshDeskURL,
		"GOOGLE_TRACKING_ID":          c.GoogleTrackingID,
		// An empty LOCPATH stops git-annex from generating locales on every start (chart, 2020-07).
		"LOCPATH": "",
	}
	if c.SentryDSN != "" {
		data["SENTRY_DSN"] = c.SentryDSN
	}
	return data
}

// config creates the ConfigMap, the application Secret and the workers' SSH key Secret, and the
// checksums that roll their consumers when they change.
func (b *builder) config() error {
	set := b.labelSet(compConfig, "")
	data := b.configData()
	cm, err := corev1.NewConfigMap(b.ctx, b.logical("configmap"), &corev1.ConfigMapArgs{
		Metadata: b.meta(b.objectName("configmap"), set),
		Data:     pulumi.ToStringMap(data),
	}, b.parent)
	if err != nil {
		return err
	}
	b.configMap = cm
	b.configSum = checksum(data)

	// Only the keys that are set, optional groups whole or not at all (stacks.Secrets.AppEnvKeys),
	// each from its own secret: the chart filled CRN_SERVER_MAIL_URL and _PASS from the mail user.
	keys := b.args.Secrets.AppEnvKeys()
	exports := strconv.FormatBool(boolOr(b.cfg.GithubExportsEnabled, true))
	stringData := pulumi.StringMap{githubExportsKey: pulumi.String(exports)}
	values := make([]any, len(keys))
	for i, key := range keys {
		stringData[key] = b.args.Secrets.Get(key)
		values[i] = b.args.Secrets.Get(key)
	}
	// stringData is safe with server-side apply here: the provider turns it into data before it
	// applies, so a key dropped from the program is dropped from the Secret
	// (pulumi/pulumi-kubernetes#2507, #2514; the upstream snag is kubernetes/kubernetes#108008).
	secret, err := corev1.NewSecret(b.ctx, b.logical("secret"), &corev1.SecretArgs{
		Metadata:   b.meta(b.objectName("secret"), set),
		Type:       pulumi.String("Opaque"),
		StringData: stringData,
	}, b.parent)
	if err != nil {
		return err
	}
	b.secret = secret
	b.secretSum = secretChecksum(pulumi.All(values...).ApplyT(func(vs []any) map[string]string {
		plain := map[string]string{githubExportsKey: exports}
		for i, key := range keys {
			plain[key] = vs[i].(string)
		}
		return plain
	}).(pulumi.StringMapOutput))

	// The chart expected this Secret to be made by hand (kubectl create secret ... --from-file).
	// OpenSSH rejects a private key file without its final newline, which config values often lose.
	key := b.args.Secrets.Get(sshKeySecretRef).ApplyT(func(k string) string {
		if strings.HasSuffix(k, "\n") {
			return k
		}
		return k + "\n"
	}).(pulumi.StringOutput)
	sshKey, err := corev1.NewSecret(b.ctx, b.logical("ssh-key"), &corev1.SecretArgs{
		Metadata:   b.meta(b.objectName("ssh-key"), set),
		Type:       pulumi.String("Opaque"),
		StringData: pulumi.StringMap{sshKeySecretKey: key},
	}, b.parent)
	if err != nil {
		return err
	}
	b.sshKey = sshKey
	b.sshKeySum = secretChecksum(key.ApplyT(func(k string) map[string]string {
		return map[string]string{sshKeySecretKey: k}
	}).(pulumi.StringMapOutput))
	return nil
}

// checksum is the sha256 of a string map's JSON form (sorted keys, so deterministic).
func checksum(data map[string]string) string {
	b, err := json.Marshal(data)
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// secretChecksum is checksum over secret values; it stays a Pulumi secret, so the preview and the
// state never show a value derived from them in clear.
func secretChecksum(data pulumi.StringMapOutput) pulumi.StringOutput {
	sum := data.ApplyT(func(m map[string]string) string { return checksum(m) })
	return pulumi.ToSecret(sum).(pulumi.StringOutput)
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}
