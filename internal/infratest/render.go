package infratest

import (
	"bytes"
	"sort"

	"sigs.k8s.io/yaml"
)

// Descendants returns the resources under the component(s) of the given type token (e.g.
// "openneuro:edgefs:EdgeFS"), the components themselves excluded, sorted by type then name.
func (r *Recorder) Descendants(componentType string) []Resource {
	all := r.Resources()
	byURN := map[string]Resource{}
	for _, res := range all {
		byURN[res.URN] = res
	}
	var out []Resource
	for _, res := range all {
		for p := res.Parent; p != ""; p = byURN[p].Parent {
			if byURN[p].Type == componentType {
				out = append(out, res)
				break
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// DescendantsOfType returns the resources of type typ under the component(s) of componentType.
func (r *Recorder) DescendantsOfType(componentType, typ string) []Resource {
	var out []Resource
	for _, res := range r.Descendants(componentType) {
		if res.Type == typ {
			out = append(out, res)
		}
	}
	return out
}

// RenderYAML renders resources as a multi-document YAML for golden files: Kubernetes objects as the
// manifest the provider would apply, every other custom resource as its type, name, options and
// inputs. Secrets are redacted, ids and provider references left out.
func RenderYAML(resources []Resource) []byte {
	var buf bytes.Buffer
	for _, res := range resources {
		if !res.Custom {
			continue
		}
		var doc any
		if res.IsKubernetesObject() {
			doc = res.Plain(true)
		} else {
			entry := map[string]any{"type": res.Type, "name": res.Name, "inputs": res.Plain(true)}
			if res.Protect {
				entry["protect"] = true
			}
			if res.RetainOnDelete {
				entry["retainOnDelete"] = true
			}
			doc = entry
		}
		b, err := yaml.Marshal(doc)
		if err != nil {
			panic(err) // plain data always marshals
		}
		buf.WriteString("---\n# " + res.Type + " " + res.Name + "\n")
		buf.Write(b)
	}
	return buf.Bytes()
}
