// Go's peer for benches/bigfile.sh: http.FileServer over a directory, GET /bytes/{n}
// (n bytes a..z repeated, written 64 KiB at a time from one run of a..z) and POST /upload
// (the body copied to io.Discard: "received <n> bytes").
// Usage: GOMAXPROCS=1 bigfile-go ADDR DIR
package main

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// bytesHandler writes n bytes, byte i being 'a' + i%26, 64 KiB at a time: the piece that
// starts at byte sent is the run of a..z from sent%26 on, so one run of 64 KiB + 26 bytes,
// built by doubling, holds every piece (what nethttp's echo example does).
func bytesHandler(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/bytes/"), 10, 64)
	if err != nil || n < 0 {
		http.Error(w, "n must be a number", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	const piece = 64 * 1024
	run := make([]byte, piece+26)
	built := copy(run, "abcdefghijklmnopqrstuvwxyz")
	for built < len(run) {
		built += copy(run[built:], run[:built])
	}
	for sent := int64(0); sent < n; {
		size := int64(piece)
		if n-sent < size {
			size = n - sent
		}
		start := sent % 26
		if _, err := w.Write(run[start : start+size]); err != nil {
			return
		}
		sent += size
	}
}

func upload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	n, err := io.Copy(io.Discard, r.Body)
	if err != nil {
		http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "received %d bytes", n)
}

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/bytes/", bytesHandler)
	mux.HandleFunc("/upload", upload)
	mux.Handle("/", http.FileServer(http.Dir(os.Args[2])))
	log.Fatal(http.ListenAndServe(os.Args[1], mux))
}
