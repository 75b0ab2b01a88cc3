"""The message being received: ids, envelope and header model, Received:, fix-ups."""
