display "never runs"
