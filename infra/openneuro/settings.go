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

	"github.com/openneuro/openneuro-infra/stacks"
)

// Keys and names of the configuration objects.
const (
	// githubExportsKey is the one plain value of the application Secret; the chart kept it there.
	githubExportsKey = "DATALAD_GITHUB_EXPORTS_ENABLED"
	// sshKeySecretKey is the key of the SSH key Secret, and the file name in the workers.
	sshKeySecretKey = "datalad-key"
)

// settings are the application's configuration objects: the ConfigMap and the Secret every
// application container reads through envFrom, the workers' SSH key, and their checksums, which
// roll a workload whenever what it read at start changes.
type settings struct {
	configMapName, secretName, sshKeyName string

	configMap *corev1.ConfigMap
	secret    *corev1.Secret
	sshKey    *corev1.Secret
	configSum string
	secretSum pulumi.StringOutput
	sshKeySum pulumi.StringOutput
}

// envFrom injects the ConfigMap and the Secret, as the chart did for every application container.
// By their fixed names (known in every preview); consumers depend on the objects through deps.
func (s *settings) envFrom() corev1.EnvFromSourceArray {
	return corev1.EnvFromSourceArray{
		corev1.EnvFromSourceArgs{ConfigMapRef: &corev1.ConfigMapEnvSourceArgs{Name: pulumi.String(s.configMapName)}},
		corev1.EnvFromSourceArgs{SecretRef: &corev1.SecretEnvSourceArgs{Name: pulumi.String(s.secretName)}},
	}
}

// checksums are the pod template annotations of a workload that reads the ConfigMap and the
// Secret through envFrom.
func (s *settings) checksums() pulumi.StringMap {
	return pulumi.StringMap{
		configChecksumKey: pulumi.String(s.configSum),
		secretChecksumKey: s.secretSum,
	}
}

// deps are the objects an envFrom consumer must be created after and deleted before.
func (s *settings) deps() []pulumi.Resource { return []pulumi.Resource{s.configMap, s.secret} }

// configData2020 is the ConfigMap of the 2020 chart (section 2.4), plus LOCPATH (section 3.2) and
// SENTRY_DSN when set. Everything in it is plain configuration; secrets go to the Secret.
func configData2020(k *kit) map[string]string {
	c := k.cfg
	data := map[string]string{
		"CRN_SERVER_URL": c.URL,
		// The public GraphQL URL, used by the indexer.
		"GRAPHQL_URI": c.GraphQLURI,
		// The in-cluster GraphQL endpoint, used by the DataLad service and workers.
		"GRAPHQL_ENDPOINT": fmt.Sprintf("http://%s:%d/crn/graphql", k.objectName(compAPI), apiPort),
		// The shard count: the workers hash every dataset to one of DATALAD_WORKERS queues, so it
		// must equal the StatefulSet's replicas (both come from app.workers).
		"DATALAD_WORKERS":             strconv.Itoa(c.Workers),
		"DATALAD_SERVICE_URI":         fmt.Sprintf("%s:%d", k.objectName(compDatalad), dataladPort),
		"DATALAD_S3_PUBLIC_ON_EXPORT": yesNo(*c.S3PublicOnExport), // default decided in stacks
		"REDIS_HOST":                  k.objectName(redisMasterSuffix),
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
	// ORCID token refresh (v3.14.2 src/libs/orcid.js) posts to <ORCID_URI>/oauth/token with the
	// callback the login uses (src/libs/authentication/passport.js: <url>/crn/auth/orcid/callback).
	if k.args.Secrets.Has(stacks.SecretOrcidClientSecret) {
		data["ORCID_URI"] = c.OrcidURI
		data["ORCID_REDIRECT_URI"] = strings.TrimSuffix(c.URL, "/") + "/crn/auth/orcid/callback"
	}
	return data
}

// configDataCurrent is the current chart's ConfigMap (helm/openneuro/templates/configmap.yaml at
// v5.5.1: 15 keys), plus ORCID_URI and ORCID_REDIRECT_URI with ORCID login, which the server reads
// (packages/openneuro-server/src/config.ts; the login's callback is <url>/crn/auth/orcid/callback,
// src/libs/authentication/passport.ts) but the chart never set.
func configDataCurrent(k *kit) map[string]string {
	c := k.cfg
	data := map[string]string{
		"CRN_SERVER_URL": c.URL,
		// The API inside the cluster by default (the chart's graphql value): the indexer and the
		// server's reindexing.
		"GRAPHQL_URI": c.GraphQLURI,
		// The shard count: every dataset hashes to one of DATALAD_WORKERS workers
		// (sha1(id)[32:40] % DATALAD_WORKERS in both the server's libs/datalad-service.ts and the
		// worker's common/dataset_hash.py), so it is the StatefulSet's replicas and the number of
		// worker Services and ingress paths, all from app.workers.
		"DATALAD_WORKERS": strconv.Itoa(c.Workers),
		// The server calls <DATALAD_SERVICE_URI>-<n>, the Service of worker n.
		"DATALAD_SERVICE_URI": k.objectName(compWorker),
		// Where each worker's own disk is mounted; the worker refuses to start without it.
		"DATALAD_DATASET_PATH": workerDatasetsPath,
		"SUPPORT_URL":          c.FreshDeskURL,
		"FRESH_DESK_URL":       c.FreshDeskURL,
		"ENVIRONMENT":          c.Environment,
		"GOOGLE_TRACKING_IDS":  c.GoogleTrackingIDs,
		"REDIS_HOST":           k.objectName(redisMasterSuffix),
		"REDIS_PORT":           strconv.Itoa(redisPort),
		// The workers post task events and results to the API here.
		"GRAPHQL_ENDPOINT": fmt.Sprintf("http://%s:%d/crn/graphql", k.objectName(compAPI), apiPort),
		// An empty LOCPATH stops git-annex from generating locales on every start.
		"LOCPATH": "",
		// The chart's appVersion, without the tag's v: informational.
		"OPENNEURO_VERSION": strings.TrimPrefix(c.Version, "v"),
		"SENTRY_DSN":        c.SentryDSN,
	}
	if k.args.Secrets.Has(stacks.SecretOrcidClientSecret) {
		data["ORCID_URI"] = c.OrcidURI
		data["ORCID_REDIRECT_URI"] = strings.TrimSuffix(c.URL, "/") + "/crn/auth/orcid/callback"
	}
	return data
}

// newSettings creates the ConfigMap (data), the application Secret and the workers' SSH key
// Secret, and the checksums that roll their consumers when they change.
func newSettings(k *kit, data map[string]string) (*settings, error) {
	s := &settings{configMapName: k.objectName("configmap"), secretName: k.objectName("secret"), sshKeyName: k.objectName("ssh-key")}
	set := k.labelSet(compConfig, "")
	cm, err := corev1.NewConfigMap(k.ctx, k.logical("configmap"), &corev1.ConfigMapArgs{
		Metadata: k.meta(s.configMapName, set),
		Data:     pulumi.ToStringMap(data),
	}, k.parent)
	if err != nil {
		return nil, err
	}
	s.configMap = cm
	s.configSum = checksum(data)

	// Only the keys that are set, optional groups whole or not at all (stacks.Secrets.AppEnvKeys),
	// each from its own secret: the chart filled CRN_SERVER_MAIL_URL and _PASS from the mail user.
	keys := k.args.Secrets.AppEnvKeys()
	// The DataLad service tests the variable for truth as a string (`if not
	// DATALAD_GITHUB_EXPORTS_ENABLED`): "false" would turn exports on, "" turns them off.
	exports := ""
	if *k.cfg.GithubExportsEnabled {
		exports = "true"
	}
	stringData := pulumi.StringMap{githubExportsKey: pulumi.String(exports)}
	values := make([]any, len(keys))
	for i, key := range keys {
		stringData[string(key)] = k.args.Secrets.Get(key)
		values[i] = k.args.Secrets.Get(key)
	}
	// stringData is safe with server-side apply here: the provider turns it into data before it
	// applies, so a key dropped from the program is dropped from the Secret
	// (pulumi/pulumi-kubernetes#2507, #2514; the upstream snag is kubernetes/kubernetes#108008).
	secret, err := corev1.NewSecret(k.ctx, k.logical("secret"), &corev1.SecretArgs{
		Metadata:   k.meta(s.secretName, set),
		Type:       pulumi.String("Opaque"),
		StringData: stringData,
	}, k.parent)
	if err != nil {
		return nil, err
	}
	s.secret = secret
	s.secretSum = secretChecksum(pulumi.All(values...).ApplyT(func(vs []any) map[string]string {
		plain := map[string]string{githubExportsKey: exports}
		for i, key := range keys {
			plain[string(key)] = vs[i].(string)
		}
		return plain
	}).(pulumi.StringMapOutput))

	// The chart expected this Secret to be made by hand (kubectl create secret ... --from-file).
	// OpenSSH rejects a private key file without its final newline, which config values often lose.
	key := k.args.Secrets.Get(stacks.SecretDataladSSHKey).ApplyT(func(k string) string {
		if strings.HasSuffix(k, "\n") {
			return k
		}
		return k + "\n"
	}).(pulumi.StringOutput)
	sshKey, err := corev1.NewSecret(k.ctx, k.logical("ssh-key"), &corev1.SecretArgs{
		Metadata:   k.meta(s.sshKeyName, set),
		Type:       pulumi.String("Opaque"),
		StringData: pulumi.StringMap{sshKeySecretKey: key},
	}, k.parent)
	if err != nil {
		return nil, err
	}
	s.sshKey = sshKey
	s.sshKeySum = secretChecksum(key.ApplyT(func(v string) map[string]string {
		return map[string]string{sshKeySecretKey: v}
	}).(pulumi.StringMapOutput))
	return s, nil
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
	sum := data.ApplyT(checksum)
	return pulumi.ToSecret(sum).(pulumi.StringOutput)
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}
