package waf

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// xmlProcessor replaces Coraza's XML body processor. It fills the same
// variables (XML://@* with attribute values, XML:/* with text) and adds
// the document's declarations ("<!DOCTYPE …[<!ENTITY …]>") to XML:/*:
// Coraza's own drops them, so no rule could see an XML external entity
// (rule 10011 in vigie.conf looks for them).
type xmlProcessor struct{}

func (xmlProcessor) ProcessRequest(r io.Reader, v plugintypes.TransactionVariables, _ plugintypes.BodyProcessorOptions) error {
	attrs, text, err := readXML(r)
	if err != nil {
		return err
	}
	col := v.RequestXML()
	col.Set("//@*", attrs)
	col.Set("/*", text)
	return nil
}

func (xmlProcessor) ProcessResponse(io.Reader, plugintypes.TransactionVariables, plugintypes.BodyProcessorOptions) error {
	return nil
}

func readXML(r io.Reader) (attrs, text []string, err error) {
	dec := xml.NewDecoder(r)
	// Lenient like ModSecurity: HTML entities and unclosed tags are read,
	// not refused; an unknown entity is kept as text.
	dec.Strict = false
	dec.AutoClose = xml.HTMLAutoClose
	dec.Entity = xml.HTMLEntity
	for {
		tok, err := dec.Token()
		if err != nil {
			var syn *xml.SyntaxError
			if errors.Is(err, io.EOF) || errors.As(err, &syn) && syn.Msg == "unexpected EOF" {
				return attrs, text, nil
			}
			return nil, nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			for _, a := range t.Attr {
				attrs = append(attrs, a.Value)
			}
		case xml.CharData:
			if s := strings.TrimSpace(string(t)); s != "" {
				text = append(text, s)
			}
		case xml.Directive:
			text = append(text, "<!"+string(t)+">")
		}
	}
}
