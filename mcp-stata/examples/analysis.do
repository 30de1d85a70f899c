* analysis.do: a small demonstration
set obs 100
gen y = _n * 2
summarize y
sleep 1000
display "fitting the model..."
sleep 1000
graph export "y.png", replace
gen z = missing_var + 1
display "not reached"
