// Go's peer for benches/tls.sh: the hello handler behind http.ListenAndServeTLS.
// Usage: GOMAXPROCS=1 tls-hello ADDR CERT KEY
package main

import (
	"log"
	"net/http"
	"os"
)

func main() {
	body := []byte("Hello, World!")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	})
	log.Fatal(http.ListenAndServeTLS(os.Args[1], os.Args[2], os.Args[3], nil))
}
