package core

import "context"

// CustomFunc is a user credential getter: it returns the keys access_key,
// secret_key, token and expiry_time, as boto3-refresh-session's custom
// method defines them. expiry_time is ISO 8601; without an offset it is
// read as UTC.
type CustomFunc func(ctx context.Context) (map[string]string, error)

// CustomProvider adapts a CustomFunc into a Provider. The result is checked
// by CredentialsFromMap: missing or empty keys, an unparseable expiry and an
// already expired result are credential errors naming the field.
type CustomProvider struct {
	Func  CustomFunc
	Clock Clock
}

// NewCustomProvider returns a CustomProvider for fn on the system clock.
func NewCustomProvider(fn CustomFunc) *CustomProvider {
	return &CustomProvider{Func: fn, Clock: SystemClock{}}
}

// Retrieve calls the getter and converts its result.
func (p *CustomProvider) Retrieve(ctx context.Context) (Credentials, error) {
	if p.Func == nil {
		return Credentials{}, validationError("custom_credentials_method", "", "custom_credentials_method is required")
	}
	m, err := p.Func(ctx)
	if err != nil {
		if KindOf(err) == KindUnknown {
			err = &Error{Kind: KindCredential, Param: "custom_credentials_method", Err: err,
				Message: "custom_credentials_method failed"}
		}
		return Credentials{}, err
	}
	clock := p.Clock
	if clock == nil {
		clock = SystemClock{}
	}
	return CredentialsFromMap(m, clock.Now())
}
