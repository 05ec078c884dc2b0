// Go's peer for benches/bigfile.sh: http.FileServer over a directory.
// Usage: GOMAXPROCS=1 bigfile-go ADDR DIR
package main

import (
	"log"
	"net/http"
	"os"
)

func main() {
	log.Fatal(http.ListenAndServe(os.Args[1], http.FileServer(http.Dir(os.Args[2]))))
}
