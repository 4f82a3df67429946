package processcreds

import (
	"github.com/gobrs/gobrs/core/custom"
	"github.com/gobrs/gobrs/internal/safetext"
)

// What this package takes from the rest of gobrs, named once here (should
// it move between packages).
var (
	// credentialsFromMap checks the custom method's keys and builds
	// Credentials.
	credentialsFromMap = custom.CredentialsFromMap
	// quoteText quotes user text as JSON writes it; cutText cuts
	// non-secret text for a message.
	quoteText = safetext.Quote
	cutText   = safetext.Cut
)
