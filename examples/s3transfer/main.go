// Command s3transfer is an example [[processors.transfer]] program for a
// Sealant (or damocles) worker: instead of uploading a finalized sector to
// an SP's receiver, it copies the sector's files into an S3-compatible
// object store with minio-go.
//
// It speaks the damocles vc-processors protocol (shared/spec/landscape.md
// §4 and Appendix A): it prints "transfer processor ready", then reads one
// JSON request per line on stdin, {"id": n, "task": {"stores": {...},
// "routes": [{"src": {"store_name": null, "uri": "/local/path"}, "dest":
// {"store_name": "receiver", "uri": "sealed/s-t01000-5"}, "opt": {...}}]}},
// handles each on its own goroutine and answers {"id": n, "err_msg": null,
// "output": true} (or an err_msg) on stdout. Logs go to stderr.
//
// Object keys are <prefix>/<dest uri>, so the bucket mirrors the
// Lotus/Curio layout (sealed/…, cache/…). A route whose object already
// exists with the source's size and SHA-256 (kept in the object's
// user metadata) is skipped, so a re-run after an interruption resumes
// without re-sending finished files.
//
// Configuration: flags, or per destination store the meta keys endpoint,
// bucket, prefix, region, secure ("true"/"false"); credentials from
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or MINIO_ACCESS_KEY /
// MINIO_SECRET_KEY).
//
//	[[processors.transfer]]
//	bin  = "/usr/local/bin/s3transfer"
//	args = ["--endpoint", "s3.example.com", "--bucket", "sectors", "--prefix", "f01000"]
//	envs = { AWS_ACCESS_KEY_ID = "…", AWS_SECRET_ACCESS_KEY = "…" }
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Task types of the damocles transfer stage.
type store struct {
	Name string            `json:"name"`
	Meta map[string]string `json:"meta"`
}

type end struct {
	StoreName *string `json:"store_name"`
	URI       string  `json:"uri"`
}

type option struct {
	IsDir     bool `json:"is_dir"`
	AllowLink bool `json:"allow_link"`
}

type route struct {
	Src  end     `json:"src"`
	Dest end     `json:"dest"`
	Opt  *option `json:"opt"`
}

type task struct {
	Stores map[string]store `json:"stores"`
	Routes []route          `json:"routes"`
}

type request struct {
	ID   uint64 `json:"id"`
	Task task   `json:"task"`
}

type response struct {
	ID     uint64  `json:"id"`
	ErrMsg *string `json:"err_msg"`
	Output *bool   `json:"output"`
}

// target is where one destination store's objects go.
type target struct {
	Endpoint, Bucket, Prefix, Region string
	Secure                           bool
}

type copier struct {
	defaults target
	access   string
	secret   string

	mu      sync.Mutex
	clients map[target]*minio.Client
}

func main() {
	var c copier
	flag.StringVar(&c.defaults.Endpoint, "endpoint", "", "S3 endpoint host[:port]")
	flag.StringVar(&c.defaults.Bucket, "bucket", "", "bucket")
	flag.StringVar(&c.defaults.Prefix, "prefix", "", "key prefix")
	flag.StringVar(&c.defaults.Region, "region", "us-east-1", "region")
	flag.BoolVar(&c.defaults.Secure, "secure", true, "use https")
	flag.Parse()
	c.access = firstEnv("AWS_ACCESS_KEY_ID", "MINIO_ACCESS_KEY")
	c.secret = firstEnv("AWS_SECRET_ACCESS_KEY", "MINIO_SECRET_KEY")
	c.clients = map[target]*minio.Client{}
	log.SetOutput(os.Stderr)
	if err := serve(context.Background(), &c, os.Stdin, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// serve runs the processor protocol until in ends.
func serve(ctx context.Context, c *copier, in io.Reader, out io.Writer) error {
	var mu sync.Mutex
	write := func(r response) {
		b, _ := json.Marshal(r)
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(out, string(b))
	}
	fmt.Fprintln(out, "transfer processor ready")
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var wg sync.WaitGroup
	for sc.Scan() {
		var req request
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			log.Printf("s3transfer: skipping unparsable line: %v", err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.run(ctx, req.Task); err != nil {
				msg := err.Error()
				write(response{ID: req.ID, ErrMsg: &msg})
				return
			}
			ok := true
			write(response{ID: req.ID, Output: &ok})
		}()
	}
	wg.Wait()
	return sc.Err()
}

func (c *copier) targetFor(t task, r route) (target, error) {
	tg := c.defaults
	if r.Dest.StoreName != nil {
		st, ok := t.Stores[*r.Dest.StoreName]
		if !ok {
			return tg, fmt.Errorf("unknown store %q", *r.Dest.StoreName)
		}
		for k, v := range st.Meta {
			switch k {
			case "endpoint":
				tg.Endpoint = v
			case "bucket":
				tg.Bucket = v
			case "prefix":
				tg.Prefix = v
			case "region":
				tg.Region = v
			case "secure":
				tg.Secure = v == "true"
			}
		}
	}
	if tg.Endpoint == "" || tg.Bucket == "" {
		return tg, errors.New("no S3 endpoint or bucket (flags or store meta)")
	}
	return tg, nil
}

func (c *copier) client(tg target) (*minio.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl := c.clients[tg]; cl != nil {
		return cl, nil
	}
	cl, err := minio.New(tg.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(c.access, c.secret, ""), Secure: tg.Secure, Region: tg.Region,
	})
	if err != nil {
		return nil, err
	}
	c.clients[tg] = cl
	return cl, nil
}

// run copies every route; a failed route fails the task (the worker
// retries it, and finished files are skipped then).
func (c *copier) run(ctx context.Context, t task) error {
	for i, r := range t.Routes {
		if r.Src.StoreName != nil {
			return fmt.Errorf("route %d: source must be a local path", i)
		}
		tg, err := c.targetFor(t, r)
		if err != nil {
			return fmt.Errorf("route %d: %w", i, err)
		}
		cl, err := c.client(tg)
		if err != nil {
			return fmt.Errorf("route %d: %w", i, err)
		}
		key := strings.TrimLeft(path.Join(tg.Prefix, filepath.ToSlash(r.Dest.URI)), "/")
		if r.Opt != nil && r.Opt.IsDir {
			err = filepath.WalkDir(r.Src.URI, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, err := filepath.Rel(r.Src.URI, p)
				if err != nil {
					return err
				}
				return upload(ctx, cl, tg.Bucket, p, path.Join(key, filepath.ToSlash(rel)))
			})
		} else {
			err = upload(ctx, cl, tg.Bucket, r.Src.URI, key)
		}
		if err != nil {
			return fmt.Errorf("route %d (%s → s3://%s/%s): %w", i, r.Src.URI, tg.Bucket, key, err)
		}
	}
	return nil
}

// shaMeta is the user metadata key holding the source's SHA-256.
const shaMeta = "Sealant-Sha256"

func upload(ctx context.Context, cl *minio.Client, bucket, src, key string) error {
	sum, size, err := fileSHA256(src)
	if err != nil {
		return err
	}
	if info, err := cl.StatObject(ctx, bucket, key, minio.StatObjectOptions{}); err == nil &&
		info.Size == size && info.UserMetadata[shaMeta] == sum {
		log.Printf("s3transfer: %s already in place", key)
		return nil
	}
	_, err = cl.FPutObject(ctx, bucket, key, src, minio.PutObjectOptions{
		UserMetadata: map[string]string{shaMeta: sum}, ContentType: "application/octet-stream",
	})
	if err != nil {
		return err
	}
	info, err := cl.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return fmt.Errorf("check upload: %w", err)
	}
	if info.Size != size {
		return fmt.Errorf("object is %d bytes after upload, source %d", info.Size, size)
	}
	return nil
}

func fileSHA256(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
