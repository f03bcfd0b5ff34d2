"""ReportLab documents."""
