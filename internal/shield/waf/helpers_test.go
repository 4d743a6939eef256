package waf

import (
	"context"

	"vigie"
)

func withClient(ctx context.Context, ip, id string) context.Context {
	return vigie.WithClient(ctx, vigie.Client{IP: ip, RequestID: id})
}
