"""The workspace's stored CRM data as the engine's frames."""
