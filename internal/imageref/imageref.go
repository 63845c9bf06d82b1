// Package imageref reads container image references, <repository>[:<tag>][@<digest>] where the
// repository may start with a registry host and port (registry.example.invalid:5000/team/app:v1): the
// one place that knows where a tag starts, for the stack validation and the manifest checks alike.
package imageref

import "strings"

// Tag returns the tag of ref, "" if it has none. A ':' before the last '/' belongs to a registry
// port, not to a tag.
func Tag(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	name := ref[strings.LastIndex(ref, "/")+1:]
	_, tag, _ := strings.Cut(name, ":")
	return tag
}

// HasDigest reports whether ref names its image by digest (@sha256:...).
func HasDigest(ref string) bool { return strings.Contains(ref, "@") }

// Unpinned says why ref does not pin one image ("has no tag", "uses the latest tag"), "" when a
// digest or a tag other than latest pins it.
func Unpinned(ref string) string {
	if HasDigest(ref) {
		return ""
	}
	switch Tag(ref) {
	case "":
		return "has no tag"
	case "latest":
		return "uses the latest tag"
	}
	return ""
}
