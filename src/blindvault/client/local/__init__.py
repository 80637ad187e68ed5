"""What the client keeps on this device: account state (pins, high-water marks, sessions),
the one atomic write, and safe local file names."""
