package processcreds

import (
	"github.com/gobrs/gobrs/core/custom"
	"github.com/gobrs/gobrs/core/sts"
	"github.com/gobrs/gobrs/internal/safetext"
)

// What this package takes from the rest of gobrs, named once here (should
// it move between packages).
var (
	// splitCommand splits a command line as a POSIX shell would quote it,
	// without a shell (the rules of the sts method's mfa_token_provider).
	splitCommand = sts.SplitCommand
	// credentialsFromMap checks the custom method's keys and builds
	// Credentials.
	credentialsFromMap = custom.CredentialsFromMap
	// quoteText quotes user text as JSON writes it; cutText cuts
	// non-secret text for a message.
	quoteText = safetext.Quote
	cutText   = safetext.Cut
)
