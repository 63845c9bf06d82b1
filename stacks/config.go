// Package stacks holds the typed stack configuration: one Config struct with a part per layer, the
// defaults, strict loading from Pulumi config and validation that reports every problem at once.
//
// Each layer is one structured config key in Pulumi.<stack>.yaml (openneuro:network, openneuro:cluster,
// openneuro:storage, openneuro:ingress, openneuro:edgefs, openneuro:app); secrets are flat keys named
// after the environment variable they become (openneuro:JWT_SECRET, ...), always set with --secret.
package stacks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// Project is the Pulumi project name, the namespace of every config key.
const Project = "openneuro"

// Config is the whole stack configuration. It is read once by Load and passed down by value.
type Config struct {
	// Env says which stack and region this is.
	Env Env `json:"-"`
	// Network is the VPC layer (openneuro:network). Unused in existing-cluster mode.
	Network Network `json:"network"`
	// Cluster is the EKS cluster and node groups, or an existing cluster (openneuro:cluster).
	Cluster Cluster `json:"cluster"`
	// Storage is EFS, the CSI drivers and the storage classes (openneuro:storage).
	Storage Storage `json:"storage"`
	// Ingress is the AWS Load Balancer Controller and the IngressClass (openneuro:ingress).
	Ingress Ingress `json:"ingress"`
	// EdgeFS is the Rook EdgeFS operator, cluster and NFS/S3 services (openneuro:edgefs).
	EdgeFS EdgeFS `json:"edgefs"`
	// OpenNeuro is the application (openneuro:app).
	OpenNeuro OpenNeuro `json:"app"`
	// Operations are metrics, logs, alarms and backups (openneuro:operations, eks mode).
	Operations Operations `json:"operations"`
	// Secrets are the application secrets, kept apart from the plain config: every value is a
	// Pulumi secret output.
	Secrets Secrets `json:"-"`
}

// Env identifies the deployment target.
type Env struct {
	// Stack is the Pulumi stack name (staging, prod, local, ...).
	Stack string
	// Region is the AWS region (config aws:region). Required in eks mode, ignored in existing mode.
	Region string
}

// layerKeys are the structured config keys, in the order the layers are built.
var layerKeys = []string{"network", "cluster", "storage", "ingress", "edgefs", "app", "operations"}

// LayerKeys returns the structured config keys (without the project namespace), in layer order.
func LayerKeys() []string { return append([]string(nil), layerKeys...) }

// target returns the struct a layer key decodes into.
func (c *Config) target(key string) any {
	switch key {
	case "network":
		return &c.Network
	case "cluster":
		return &c.Cluster
	case "storage":
		return &c.Storage
	case "ingress":
		return &c.Ingress
	case "edgefs":
		return &c.EdgeFS
	case "app":
		return &c.OpenNeuro
	case "operations":
		return &c.Operations
	}
	panic("stacks: unknown layer key " + key)
}

// Load reads every layer key strictly (unknown fields are errors), fills the defaults, reads the
// secrets and validates. It returns every problem at once, before any resource is registered.
//
// The operator's values are decoded onto a config already filled with defaults, so a value they
// set, even 0, "" or false, is what validation sees, and a count set to 0 is rejected rather than
// read as "unset". Many defaults depend on what the operator chose (the cluster mode, the generation,
// a node group's desiredSize), so a first decode reads those choices, the defaults are filled from
// them, and the same values are decoded again on top.
func Load(ctx *pulumi.Context) (*Config, error) {
	cfg := &Config{Env: Env{Stack: ctx.Stack(), Region: config.Get(ctx, "aws:region")}}
	var errs []error
	set := map[string]string{}
	for _, key := range layerKeys {
		raw, err := config.Try(ctx, Project+":"+key)
		if errors.Is(err, config.ErrMissingVar) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
			continue
		}
		if nulls := nullPaths(key, raw); len(nulls) > 0 {
			for _, path := range nulls {
				errs = append(errs, fmt.Errorf("%s: is null (a key with no value in the stack file); give it a value, or remove the key for the default", path))
			}
			continue
		}
		if err := DecodeStrict(raw, cfg.target(key)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w; check the key names against Pulumi.yaml", key, err))
			continue
		}
		set[key] = raw
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	cfg.fillDefaults()
	for _, key := range layerKeys {
		if raw, ok := set[key]; ok {
			// The same JSON decoded cleanly above; decoding it again cannot fail.
			if err := DecodeStrict(raw, cfg.target(key)); err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	cfg.rewriteDockerHubImages()
	secrets, secretErr := loadSecrets(ctx, cfg.Cluster.Mode, cfg.OpenNeuro.Generation)
	exportsErr := cfg.OpenNeuro.resolveGithubExports(secrets)
	if err := errors.Join(cfg.Validate(), secretErr, exportsErr); err != nil {
		return nil, err
	}
	cfg.Secrets = secrets
	cfg.markLoaded()
	return cfg, nil
}

// loadMark is embedded in each layer's config and set only by Load, so a layer can tell the config
// Load resolved (defaults filled, validated) from a struct literal or a zero value, which other
// packages can build but cannot mark.
type loadMark struct{ loaded bool }

// FromLoad reports whether this config is (a copy of) one that Load returned.
func (m loadMark) FromLoad() bool { return m.loaded }

func (c *Config) markLoaded() {
	for _, m := range []*loadMark{&c.Network.loadMark, &c.Cluster.loadMark, &c.Storage.loadMark,
		&c.Ingress.loadMark, &c.EdgeFS.loadMark, &c.OpenNeuro.loadMark, &c.Operations.loadMark} {
		m.loaded = true
	}
}

// DecodeStrict decodes one JSON config value into v and rejects unknown fields, so that a misspelt key
// in a stack file is an error instead of being silently dropped (config.TryObject would drop it).
func DecodeStrict(raw string, v any) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the value")
	}
	return nil
}

// nullPaths lists the config paths (app.replicas.api, app.ingress.hosts[0]) whose value is JSON
// null in raw, the value of the layer key: YAML writes one for a key left without a value. A null
// would decode as "not set" in one field and as an empty list or object in another, so it is an
// error wherever it is, rather than a default or a panic further on.
func nullPaths(key, raw string) []string {
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return nil // DecodeStrict reports it
	}
	var out []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case nil:
			out = append(out, path)
		case map[string]any:
			for k, child := range x {
				walk(path+"."+k, child)
			}
		case []any:
			for i, child := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), child)
			}
		}
	}
	walk(key, v)
	sort.Strings(out)
	return out
}

// fillDefaults fills every field left at its zero value. It is the only place defaults are decided;
// dependent defaults come after the ones they depend on (cluster before edgefs before app).
func (c *Config) fillDefaults() {
	c.Cluster.applyDefaults(c.Env)
	c.Network.applyDefaults(c.Env, c.Cluster)
	c.Operations.applyDefaults(c.Cluster)
	c.Storage.applyDefaults(c.Cluster, c.Operations)
	c.Ingress.applyDefaults(c.Cluster)
	c.EdgeFS.applyDefaults(c.Cluster)
	c.OpenNeuro.applyDefaults(c.Env, c.Network, c.Cluster, c.Ingress, c.Operations)
}

// rewriteDockerHubImages sends every Docker Hub image, default or set, through the pull-through
// cache when the stack has one.
func (c *Config) rewriteDockerHubImages() {
	if cache := c.Cluster.DockerHubCache; cache != nil && c.IsEKS() && cache.Account() != "" {
		for _, ref := range c.dockerHubImages() {
			*ref = cache.Rewrite(*ref)
		}
	}
}

// Validate returns one error per problem of the plain config, each starting with its config path,
// joined together. Secrets are checked by Load, which sees their values.
func (c *Config) Validate() error {
	var v validator
	c.Network.validate(&v, c.Env, c.Cluster)
	c.Cluster.validate(&v, c.Env)
	c.Storage.validate(&v, c.Cluster)
	c.Ingress.validate(&v, c.Cluster)
	c.EdgeFS.validate(&v, c.Cluster)
	c.OpenNeuro.validate(&v, c.Env, c.Network, c.Cluster, c.EdgeFS, c.Ingress, c.Storage, c.Operations)
	c.Operations.validate(&v, c.Cluster, c.Env)
	if c.Storage.EFS.Backups != nil && *c.Storage.EFS.Backups && c.Operations.BackupEnabled() {
		v.addf("storage.efs.backups", "is true while operations.backup is on, so the file system would be backed up twice (and paid twice); remove storage.efs.backups, the AWS Backup plan covers EFS")
	}
	validateStoragePool(&v, c.Cluster, c.EdgeFS, c.OpenNeuro, c.Operations)
	validateWorkerNodes(&v, c.Cluster, c.OpenNeuro)
	c.validateDockerHubPulls(&v)
	return v.err()
}

// UsesEFS reports whether the stack creates the EFS file system and its CSI driver: eks mode with
// the 2020 generation, whose shared datasets volume is on EFS (app.datasetStore efs, and beside
// EdgeFS for the switch between them). Nothing of the current generation mounts EFS.
func (c *Config) UsesEFS() bool { return c.IsEKS() && c.OpenNeuro.Generation == Gen2020 }

// IsEKS reports whether this stack creates its own AWS platform (network, EKS, EFS, load balancer
// controller) rather than deploying onto an existing cluster.
func (c *Config) IsEKS() bool { return c.Cluster.Mode == ModeEKS }
