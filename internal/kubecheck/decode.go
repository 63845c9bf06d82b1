package kubecheck

import (
	"encoding/json"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// strictDecoder decodes into the typed k8s.io/api structs of every built-in kind and of CRDs, and fails
// on unknown and duplicate fields. It is case-sensitive, like the API server (encoding/json is not).
var strictDecoder = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(apiextensionsv1.AddToScheme(scheme))
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Strict: true})
}()

// DecodeStrict decodes obj into its typed Go struct. known is false, and err nil, for kinds the
// scheme does not have (custom resources): only the API server can check those, against their CRD.
func DecodeStrict(obj map[string]any) (typed runtime.Object, known bool, err error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, false, fmt.Errorf("encode: %w", err)
	}
	typed, _, err = strictDecoder.Decode(data, nil, nil)
	switch {
	case runtime.IsNotRegisteredError(err):
		return nil, false, nil
	case err != nil:
		return nil, true, err
	}
	return typed, true, nil
}
