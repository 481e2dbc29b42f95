package intake

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJoinThreadPicksTheRootWhateverTheOrder(t *testing.T) {
	root := &Report{MessageID: "a@x", Subject: "bug", Body: "root body", Hash: "h1",
		Attachments: []Attachment{{Name: "repro.c"}}}
	reply := &Report{MessageID: "b@x", InReplyTo: "a@x", From: "M <m@x>", Subject: "Re: bug",
		Date: time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC), Body: "question", Hash: "h2",
		Notes: []string{"unknown charset"}, Attachments: []Attachment{{Name: "dmesg.txt"}}}
	got, err := JoinThread([]*Report{reply, root})
	require.NoError(t, err)
	assert.Equal(t, "a@x", got.MessageID, "the message answering none of the others is the root")
	assert.Equal(t, "bug", got.Subject)
	assert.Equal(t, "root body\n\n----- reply 1: from M <m@x> on 2025-03-04 12:00 UTC, subject \"Re: bug\" -----\nquestion", got.Body)
	assert.Equal(t, []Attachment{{Name: "repro.c"}, {Name: "dmesg.txt"}}, got.Attachments)
	assert.Equal(t, []string{"reply 1: unknown charset"}, got.Notes)
	assert.Equal(t, 2, got.ThreadSize)
	assert.Len(t, got.Hash, 64)
	assert.NotEqual(t, "h1", got.Hash)
	assert.Len(t, root.Attachments, 1, "the root message is not modified")

	one, err := JoinThread([]*Report{root})
	require.NoError(t, err)
	assert.Same(t, root, one, "a single message is returned as it is")
	_, err = JoinThread(nil)
	assert.Error(t, err)
}
