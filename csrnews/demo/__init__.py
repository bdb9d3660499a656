"""The bundled demo publisher: fictional CSR news sites served on loopback."""
