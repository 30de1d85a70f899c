version 15
display "a fairly long string that goes past the line size of the log when echoed"
summarize price mpg ///
    weight
forvalues i = 1/2 {
    display `i'
}
do inner.do
