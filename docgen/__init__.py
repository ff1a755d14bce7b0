"""DXF/DWG drawings, PDF books and certificates, QR codes (to come)."""
