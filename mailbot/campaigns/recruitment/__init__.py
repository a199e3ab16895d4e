"""The recruitment kind: volunteers for workshops or a committee with limited seats, selection
(first come, lottery, stratified), waitlist and calendar invitations. `model` holds the
`Recruitment`, `file` its schedules/ file."""
