š
main‘

x




CoreML7g
CoreML7\yW

while_loop
y




"

ij

add
j*
name


"
loop"=
	buildInfo0.",
*

"
coremltools-version	
"
9.0