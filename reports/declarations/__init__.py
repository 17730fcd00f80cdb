"""The report declarations (`reports.registry`): one module per report, each defining
`REPORT`."""
