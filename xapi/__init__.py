"""Everything xAPI: vocabulary, statement builders, outbox, LRS client and the embedded LRS."""
