module bigfile

go 1.19
