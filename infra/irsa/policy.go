package irsa

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// PolicyVersion is the only current IAM policy language version.
const PolicyVersion = "2012-10-17"

// STSAudience is the audience EKS puts in projected service account tokens for IRSA.
const STSAudience = "sts.amazonaws.com"

// Document is an IAM policy document (a permissions policy or a role's trust policy), marshalled
// with encoding/json instead of being written as a JSON string.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Document.
type Statement struct {
	Sid       string     `json:"Sid,omitempty"`
	Effect    string     `json:"Effect"`
	Principal *Principal `json:"Principal,omitempty"`
	Action    Values     `json:"Action"`
	Resource  Values     `json:"Resource,omitempty"`
	// NotResource is every resource but these (with Effect Deny: a fence around them).
	NotResource Values    `json:"NotResource,omitempty"`
	Condition   Condition `json:"Condition,omitempty"`
}

// Principal names who a trust policy lets assume a role.
type Principal struct {
	AWS       Values `json:"AWS,omitempty"`
	Federated string `json:"Federated,omitempty"`
	Service   string `json:"Service,omitempty"`
}

// Condition maps a condition operator (StringEquals, Null, ...) to condition keys and their values.
type Condition map[string]map[string]Values

// Values is a list of strings that marshals as a plain string when it has one element, the way
// AWS's own policy documents are written.
type Values []string

// MarshalJSON writes a single value as a string and several as an array.
func (v Values) MarshalJSON() ([]byte, error) {
	if len(v) == 1 {
		return json.Marshal(v[0])
	}
	return json.Marshal([]string(v))
}

// UnmarshalJSON reads either form, so tests can parse the documents back.
func (v *Values) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*v = Values{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*v = many
	return nil
}

// JSON renders the document. Maps marshal with sorted keys, so the same document always renders
// to the same bytes and a second preview shows no diff.
func (d Document) JSON() (string, error) {
	if d.Version == "" {
		d.Version = PolicyVersion
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// AssumeRoleByService is the trust policy of a role an AWS service assumes (e.g. ec2.amazonaws.com
// for node roles).
func AssumeRoleByService(service string) Document {
	return Document{Version: PolicyVersion, Statement: []Statement{{
		Effect:    "Allow",
		Principal: &Principal{Service: service},
		Action:    Values{"sts:AssumeRole"},
	}}}
}

// TrustPolicy renders the trust policy of an IRSA role: only tokens that the cluster's OIDC
// provider issued to exactly namespace/serviceAccount, for the STS audience, may assume the role.
// issuer is the OIDC issuer with or without its https:// scheme.
// Ref: https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html
func TrustPolicy(oidcProviderARN, issuer, namespace, serviceAccount string) (string, error) {
	host := strings.TrimPrefix(issuer, "https://")
	var errs []error
	if !strings.HasPrefix(oidcProviderARN, "arn:") || !strings.Contains(oidcProviderARN, ":oidc-provider/") {
		errs = append(errs, fmt.Errorf("OIDC provider ARN %q is not an IAM OIDC provider ARN", oidcProviderARN))
	}
	if host == "" || strings.ContainsAny(host, " \t") {
		errs = append(errs, fmt.Errorf("OIDC issuer %q is empty or malformed", issuer))
	}
	if namespace == "" || serviceAccount == "" {
		errs = append(errs, fmt.Errorf("namespace %q and service account %q must both be set", namespace, serviceAccount))
	}
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	doc := Document{Version: PolicyVersion, Statement: []Statement{{
		Effect:    "Allow",
		Principal: &Principal{Federated: oidcProviderARN},
		Action:    Values{"sts:AssumeRoleWithWebIdentity"},
		Condition: Condition{"StringEquals": {
			host + ":sub": {ServiceAccountSubject(namespace, serviceAccount)},
			host + ":aud": {STSAudience},
		}},
	}}}
	return doc.JSON()
}

// ServiceAccountSubject is the subject Kubernetes writes into a service account's token.
func ServiceAccountSubject(namespace, serviceAccount string) string {
	return "system:serviceaccount:" + namespace + ":" + serviceAccount
}
