* analysis.do
set more off
set obs 10

*python query
*python which numpy
display "done"
