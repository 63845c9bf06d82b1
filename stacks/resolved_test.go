package stacks_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
	"github.com/openneuro/openneuro-infra/stacks"
)

// TestDefaultsLeaveNoSwitchUnset: after Load, every on/off switch (*bool) of the layers the stack
// builds is decided, so a layer reads it as it is and never restates a default for nil. Unset
// switches are allowed only inside optional parts that are absent (a nil pointer), in existing mode
// in the AWS-only layers, which nothing builds there, and for the keys of the other generation (left
// unset so that validation can name one an operator set where it means nothing).
func TestDefaultsLeaveNoSwitchUnset(t *testing.T) {
	for _, v := range stackVariants(t,
		variant{"prod without backups", "prod", []stackconfig.Option{stackconfig.WithValue("operations.backup.enabled", false)}},
		variant{"staging with public CIDRs", "staging", []stackconfig.Option{stackconfig.WithValue("cluster.publicAccessCidrs", []string{"192.0.2.0/24"}), stackconfig.WithoutValue("cluster.endpointPublicAccess")}},
	) {
		t.Run(v.name, func(t *testing.T) {
			cfg, err := stackconfig.Load(v.stack, v.opts...)
			if err != nil {
				t.Fatal(err)
			}
			awsOnly := map[string]bool{}
			if !cfg.IsEKS() {
				for _, layer := range []string{"network", "cluster", "storage", "ingress", "operations"} {
					awsOnly[layer] = true
				}
			}
			otherGeneration := map[string]bool{"app.s3PublicOnExport": cfg.OpenNeuro.Generation != stacks.Gen2020}
			for _, path := range unsetSwitches(reflect.ValueOf(*cfg), "") {
				if !awsOnly[strings.SplitN(path, ".", 2)[0]] && !otherGeneration[path] {
					t.Errorf("%s is unset after the defaults; decide it in its layer's applyDefaults", path)
				}
			}
		})
	}
}

// variant is a stack's config with changes, as Load sees it.
type variant struct {
	name, stack string
	opts        []stackconfig.Option
}

// stackVariants are every stack file, the current-generation test stack, then extra.
func stackVariants(t *testing.T, extra ...variant) []variant {
	t.Helper()
	names, err := stackconfig.Stacks()
	if err != nil {
		t.Fatal(err)
	}
	var out []variant
	for _, stack := range names {
		out = append(out, variant{stack, stack, nil})
	}
	out = append(out, variant{"current", stackconfig.CurrentStack, stackconfig.Current()})
	return append(out, extra...)
}

// unsetSwitches lists the config paths (JSON names) of the nil *bool fields under v, not descending
// into nil pointers to structs (absent optional parts).
func unsetSwitches(v reflect.Value, path string) []string {
	var out []string
	for i := range v.NumField() {
		f, field := v.Type().Field(i), v.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		p := strings.TrimPrefix(path+"."+name, ".")
		switch {
		case f.Type == reflect.TypeFor[*bool]():
			if field.IsNil() {
				out = append(out, p)
			}
		case f.Type.Kind() == reflect.Struct:
			out = append(out, unsetSwitches(field, p)...)
		case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct && !field.IsNil():
			out = append(out, unsetSwitches(field.Elem(), p)...)
		}
	}
	return out
}

// TestOnlyLoadMarksLayers: every layer's config Load returns carries the mark the layers check, and
// a config built any other way (a zero value, a literal) does not.
func TestOnlyLoadMarksLayers(t *testing.T) {
	cfg, err := stackconfig.Load("staging")
	if err != nil {
		t.Fatal(err)
	}
	type marked interface{ FromLoad() bool }
	loaded, zero := reflect.ValueOf(*cfg), reflect.ValueOf(stacks.Config{})
	layers := 0
	for i := range loaded.NumField() {
		f := loaded.Type().Field(i)
		if _, ok := loaded.Field(i).Interface().(marked); !ok {
			continue
		}
		layers++
		if !loaded.Field(i).Interface().(marked).FromLoad() {
			t.Errorf("Config.%s from Load is not marked", f.Name)
		}
		if zero.Field(i).Interface().(marked).FromLoad() {
			t.Errorf("a zero Config.%s is marked", f.Name)
		}
	}
	if want := len(stacks.LayerKeys()); layers != want {
		t.Errorf("%d layer configs carry the mark, want one per layer key (%d)", layers, want)
	}
}
