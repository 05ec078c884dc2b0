module tlshello

go 1.19
