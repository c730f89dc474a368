// Data readers, batching and the built-in demo task.
