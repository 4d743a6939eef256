package blob

import (
	"embed"
	"io/fs"
)

//go:embed messages.fr.json
var messagesFS embed.FS

// Messages holds messages.fr.json, the French translations of the errors
// users see, for web.LoadMessages.
func Messages() fs.FS { return messagesFS }
