"""The real-time engine: who is connected (hub), how events travel (bus, backplane),
the batched message write path (writer) and the shape of every event (events)."""
