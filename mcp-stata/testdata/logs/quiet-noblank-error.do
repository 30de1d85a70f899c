ereturn list
return list
gen y = bad_var + 1
display "never"
