package stacks

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/openneuro/openneuro-infra/internal/imageref"
)

// validator collects problems; each message reads "<config path>: <what is wrong>; <fix>".
type validator struct{ errs []error }

func (v *validator) addf(path, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

func (v *validator) err() error { return errors.Join(v.errs...) }

func (v *validator) positive(path string, n int) {
	if n < 1 {
		v.addf(path, "is %d; it must be at least 1", n)
	}
}

// notEmpty rejects a string the operator set to "": Load decodes their values over the defaults, so
// an explicit empty value stays empty instead of becoming the default.
func (v *validator) notEmpty(path, value string) {
	if value == "" {
		v.addf(path, "is empty; remove the key to use the default, or set a value")
	}
}

// percent checks a share in percent: 1 to 100; why says what it is a share of.
func (v *validator) percent(path string, n int, why string) {
	if n < 1 || n > 100 {
		v.addf(path, "is %d; use 1 to 100 (%s)", n, why)
	}
}

func (v *validator) oneOf(path, value string, allowed ...string) {
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	v.addf(path, "%q is not allowed; use one of %s", value, strings.Join(allowed, ", "))
}

// dnsLabel is an RFC 1123 label, what Kubernetes wants for most object names.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func (v *validator) k8sName(path, value string, maxLen int) {
	if !dnsLabel.MatchString(value) || len(value) > maxLen {
		v.addf(path, "%q is not a valid Kubernetes name; use at most %d lower-case letters, digits and '-'", value, maxLen)
	}
}

// labelKey checks a Kubernetes label (and taint) key, e.g. openneuro.org/node-pool.
func (v *validator) labelKey(path, value string) {
	if errs := validation.IsQualifiedName(value); len(errs) > 0 {
		v.addf(path, "%q is not a valid label key: %s", value, strings.Join(errs, "; "))
	}
}

// labelValue checks a Kubernetes label (and taint) value; it must not be empty here.
func (v *validator) labelValue(path, value string) {
	if errs := validation.IsValidLabelValue(value); len(errs) > 0 || value == "" {
		v.addf(path, "%q is not a valid label value; use at most 63 letters, digits, '-', '_' and '.'", value)
	}
}

// hostnameRE is a fully qualified DNS name of at least two labels (or *.localhost for local use).
var hostnameRE = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

func (v *validator) hostname(path, value string) bool {
	if !hostnameRE.MatchString(value) || len(value) > 253 {
		v.addf(path, "%q is not a valid DNS hostname; use a lower-case name such as openneuro.example.org", value)
		return false
	}
	return true
}

// httpURL checks that value is an absolute http(s) URL and returns it parsed.
func (v *validator) httpURL(path, value string) *url.URL {
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.addf(path, "%q is not an absolute http(s) URL; write it like https://openneuro.example.org", value)
		return nil
	}
	return u
}

func (v *validator) cidr(path, value string) *net.IPNet {
	_, n, err := net.ParseCIDR(value)
	if err != nil || n.IP.To4() == nil {
		v.addf(path, "%q is not an IPv4 CIDR block; write it like 10.0.0.0/16", value)
		return nil
	}
	return n
}

// imageRef is <repository>[:<tag>][@sha256:<digest>]; the repository may carry a registry host.
var imageRef = regexp.MustCompile(`^[a-z0-9]+([._/-]?[a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]?[a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$`)

// image checks that ref names a pinned image: an explicit tag other than latest, or a digest.
func (v *validator) image(path, ref string) {
	if !imageRef.MatchString(ref) {
		v.addf(path, "%q is not an image reference; write it like openneuro/server:v3.14.2", ref)
		return
	}
	if imageref.HasDigest(ref) {
		return
	}
	switch imageref.Tag(ref) {
	case "":
		v.addf(path, "%q has no tag; pin a version such as %s:v1.2.3", ref, ref)
	case "latest":
		v.addf(path, "%q uses the tag latest; pin a version so that every preview is reproducible", ref)
	}
}

// semverish is a pinned version such as 1.2.3, v1.2.3 or v2.1.4-eksbuild.1.
var semverish = regexp.MustCompile(`^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$`)

func (v *validator) version(path, value string) {
	if !semverish.MatchString(value) {
		v.addf(path, "%q is not a pinned version; write it like 1.2.3", value)
	}
}

// instanceTypeRE is an EC2 instance type: family (letters, generation digit, attribute letters), a
// dot, and a size.
var instanceTypeRE = regexp.MustCompile(`^[a-z]+[0-9]+[a-z-]*\.(nano|micro|small|medium|large|[0-9]*xlarge|metal(-[0-9]+xl)?)$`)

// instanceStoreRE matches families with local NVMe instance storage: i3, i3en, i4i, im4gn, is4gen,
// d3, d3en, h1, and any family with the "d" attribute (m5ad, c6id, r5dn, ...).
var instanceStoreRE = regexp.MustCompile(`^(i[0-9]|im[0-9]|is[0-9]|d[0-9]|h1|[a-z]+[0-9]+[a-z]*d[a-z]*\.)`)

func (v *validator) quantity(path, value string) {
	if _, err := parseQuantity(value); err != nil {
		v.addf(path, "%q is not a Kubernetes quantity; write it like 500m, 2, 768Mi or 40Gi", value)
	}
}

// acmCertRE is an ACM certificate ARN; the first group is its region.
var acmCertRE = regexp.MustCompile(`^arn:aws(?:-[a-z]+)*:acm:([a-z]{2}(?:-[a-z]+)+-[0-9]):[0-9]{12}:certificate/[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$`)

// iamRoleRE is an IAM role ARN (with an optional path).
var iamRoleRE = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[\w+=,.@/-]+$`)
