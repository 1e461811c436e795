package auth

import (
	"fmt"
	"math"
	"strings"
)

// The rule for a configured HS256 secret (JWT_SECRET), in one place: CheckSecret. Config
// validation, SigningSecret and NewTokens all ask it.

// MinSecretBytes is the shortest HS256 key accepted (RFC 7518 §3.2: at least the hash size).
const MinSecretBytes = 32

// MinSecretBits is the least estimated strength of a secret: an attacker holding one token (any
// login gives one) can test guesses offline at billions per second, so guessable secrets —
// jwt_tool's wordlist, repeats, sequences, keyboard walks, words — must be refused however long.
const MinSecretBits = 128

// secretAdvice says how to make a secret that passes.
const secretAdvice = "make one with `openssl rand -base64 48` (or `openssl rand -hex 32`), or leave JWT_SECRET unset to have one generated"

// CheckSecret accepts an HS256 secret of at least MinSecretBytes bytes whose estimated strength
// (SecretStrength) is at least MinSecretBits.
func CheckSecret(secret []byte) error {
	if len(secret) < MinSecretBytes {
		return fmt.Errorf("JWT_SECRET must be at least %d bytes, got %d: %s", MinSecretBytes, len(secret), secretAdvice)
	}
	if bits := SecretStrength(secret); bits < MinSecretBits {
		return fmt.Errorf("JWT_SECRET is guessable: its estimated strength is %.0f bits, at least %d are needed (it has repeats, sequences, keyboard walks, common words or few distinct characters): %s",
			bits, MinSecretBits, secretAdvice)
	}
	return nil
}

// SecretStrength estimates how many bits of guessing a secret is worth, in the manner of zxcvbn
// but smaller: the cheapest description of the secret as a run of pieces, each either a single
// character (log2 of the alphabet it is drawn from) or a pattern a guesser tries early —
//
//   - a repeat of earlier text (LZ77-like: where it starts, how long), e.g. "secretsecret", "aaaa";
//   - a sequence of constant step, e.g. "12345678", "abcdefgh", "97531";
//   - a keyboard walk on a QWERTY layout, e.g. "qwertyuiop", "1qaz2wsx";
//   - a common word or password, in any case and with digit-for-letter substitutions.
//
// The alphabet is the smallest of the usual ones that holds every character (hex 16, digits 10,
// letters, base64 64, printable ASCII 95, any byte 256), or twice the number of distinct
// characters when that is smaller (few distinct characters). Short patterns are ignored (repeats
// and sequences under 8 characters, walks under 4, words under 3), and so are patterns that save
// fewer than patternMargin bits, so that a random secret is not marked down for the short runs
// chance puts in it: a random secret of n characters from an
// alphabet A is estimated n·log2(A) bits, i.e. 4 bits per random hex digit (a 32-digit hex string,
// `openssl rand -hex 16`, is exactly 128 bits and passes unless chance made it look patterned:
// about 7 in 100,000 hold a run such as "654321" or a walk such as "123edc", are refused, and
// need making again) and 6 per base64 character (no random base64 secret of 32 characters or
// more was refused in 100,000).
//
// Only the first maxSecretAnalysis bytes are analysed (the rest cannot lower the estimate of a
// secret that is already strong enough there, and is counted at the alphabet's rate).
func SecretStrength(secret []byte) float64 {
	s := secret
	tail := 0
	if len(s) > maxSecretAnalysis {
		s, tail = s[:maxSecretAnalysis], len(s)-maxSecretAnalysis
	}
	charBits := math.Log2(alphabetSize(secret))
	n := len(s)
	// cost[i]: bits of the cheapest description of s[:i].
	cost := make([]float64, n+1)
	for i := 1; i <= n; i++ {
		cost[i] = math.Inf(1)
	}
	lower := []byte(strings.ToLower(unleet(string(s))))
	for i := 0; i < n; i++ {
		// Patterns starting at i, each ending at some j > i.
		relax := func(j int, bits float64) {
			// A pattern counts only when it makes its piece at least 2^patternMargin times
			// cheaper to guess than its characters one by one: chance puts short, barely
			// cheaper runs into random secrets, and a 128-bit secret must not lose bits to them.
			if bits+patternMargin > float64(j-i)*charBits {
				return
			}
			if c := cost[i] + bits; c < cost[j] {
				cost[j] = c
			}
		}
		// cost[i] is final here: every piece ending at i starts before it.
		if c := cost[i] + charBits; c < cost[i+1] {
			cost[i+1] = c // one character
		}
		for d := 1; d <= i; d++ { // a copy of the text d bytes back, overlapping allowed
			l := 0
			for i+l < n && s[i+l] == s[i+l-d] {
				l++
			}
			for ; l >= minRepeat; l-- {
				relax(i+l, math.Log2(float64(i))+math.Log2(float64(l)))
			}
		}
		if l := sequenceLength(s, i); l >= minSequence {
			for ; l >= minSequence; l-- {
				relax(i+l, charBits+math.Log2(float64(l))+2) // 2 bits: the step, ±1 or ±2
			}
		}
		if l, turns := walkLength(s, i); l >= minWalk {
			relax(i+l, charBits+math.Log2(float64(l))+float64(l-1)+float64(turns)*math.Log2(6))
		}
		for _, w := range secretWords {
			if len(w) >= minWord && i+len(w) <= n && string(lower[i:i+len(w)]) == w {
				relax(i+len(w), math.Log2(float64(len(secretWords)))+variantBits(s[i:i+len(w)], w))
			}
		}
	}
	return cost[n] + float64(tail)*charBits
}

const (
	maxSecretAnalysis = 256
	minRepeat         = 8
	minSequence       = 8
	minWalk           = 4
	minWord           = 3
	patternMargin     = 10 // bits
)

// alphabetSize is the number of characters a guesser would draw s's characters from.
func alphabetSize(s []byte) float64 {
	var digit, lowerHex, lower, upperHex, upper, b64sym, sym, other bool
	distinct := map[byte]bool{}
	for _, c := range s {
		distinct[c] = true
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'f':
			lowerHex = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'F':
			upperHex = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c == '+' || c == '/' || c == '-' || c == '_' || c == '=':
			b64sym = true
		case c >= ' ' && c <= '~':
			sym = true
		default:
			other = true
		}
	}
	var size float64
	switch {
	case other:
		size = 256
	case sym:
		size = 95
	case b64sym || (lower || lowerHex) && (upper || upperHex):
		size = 64
	case lower || upper:
		size = 26
		if digit {
			size = 36
		}
	case lowerHex && upperHex:
		size = 22
	case lowerHex || upperHex:
		size = 16
	default:
		size = 10
	}
	return max(2, min(size, 2*float64(len(distinct))))
}

// sequenceLength is the length of the run of constant step ±1 or ±2 starting at s[i].
func sequenceLength(s []byte, i int) int {
	if i+1 >= len(s) {
		return 1
	}
	step := int(s[i+1]) - int(s[i])
	if step == 0 || step < -2 || step > 2 {
		return 1
	}
	l := 2
	for i+l < len(s) && int(s[i+l])-int(s[i+l-1]) == step {
		l++
	}
	return l
}

// qwerty is the US layout by rows, unshifted and shifted; keyboardPos gives each key's row and
// column, the columns of a row offset by half a key from the row above, as on a keyboard.
var qwerty = [4][2]string{
	{"`1234567890-=", "~!@#$%^&*()_+"},
	{"qwertyuiop[]\\", "QWERTYUIOP{}|"},
	{"asdfghjkl;'", "ASDFGHJKL:\""},
	{"zxcvbnm,./", "ZXCVBNM<>?"},
}

type keyPos struct{ row, col int }

var keyboardPos = func() map[byte]keyPos {
	pos := map[byte]keyPos{}
	for r, keys := range qwerty {
		for _, row := range keys {
			for c := range len(row) {
				// Row 0 starts with "`" left of "1"; the letter rows start under "1".
				col := c
				if r > 0 {
					col = c + 1
				}
				pos[row[c]] = keyPos{r, col}
			}
		}
	}
	return pos
}()

// keyStep returns the direction from key a to key b when they are neighbours, else ok false.
func keyStep(a, b byte) (dir keyPos, ok bool) {
	pa, oka := keyboardPos[a]
	pb, okb := keyboardPos[b]
	if !oka || !okb {
		return keyPos{}, false
	}
	d := keyPos{pb.row - pa.row, pb.col - pa.col}
	switch d {
	case keyPos{0, 1}, keyPos{0, -1}, keyPos{1, 0}, keyPos{1, -1}, keyPos{-1, 0}, keyPos{-1, 1}:
		return d, true
	}
	return keyPos{}, false
}

// walkLength is the length of the keyboard walk starting at s[i], and how often it turns.
func walkLength(s []byte, i int) (length, turns int) {
	length = 1
	var prev keyPos
	for j := i + 1; j < len(s); j++ {
		d, ok := keyStep(s[j-1], s[j])
		if !ok {
			break
		}
		if length > 1 && d != prev {
			turns++
		}
		prev = d
		length++
	}
	return length, turns
}

// unleet undoes the digit-and-symbol-for-letter substitutions guessers try ("p4ssw0rd"); it
// keeps the length, so that positions match the original.
func unleet(s string) string {
	return strings.NewReplacer("0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "@", "a", "$", "s", "!", "i").Replace(s)
}

// variantBits is what a guesser pays for the case and substitutions of word as it appears in
// got: nothing for lower case, a bit for capitalised or upper case, a bit per other change.
func variantBits(got []byte, word string) float64 {
	g := string(got)
	switch g {
	case word:
		return 0
	case strings.ToUpper(word), strings.ToUpper(word[:1]) + word[1:]:
		return 1
	}
	bits := 1.0
	for k := range len(word) {
		if g[k] != word[k] && g[k]|0x20 != word[k] {
			bits++ // a substitution
		}
	}
	return bits
}

// secretWords are words and passwords that secrets are made of: jwt_tool's and other JWT
// cracking lists' favourites, placeholders from documentation, and the most common passwords
// (lower case, each at least minWord letters; none consists of hex digits alone, so that random
// hex cannot contain one by chance).
var secretWords = strings.Fields(`
	secret secrets password passwd pass qwerty letmein welcome admin administrator root user
	login guest master shadow monkey dragon sunshine princess football baseball iloveyou trustno
	superman batman starwars whatever freedom hello world love test testing tests demo sample
	example default changeme changeit change replace replaceme please insecure security secure
	private public signing signature token tokens shopql shop graphql server access refresh
	session jwtsecret jwtkey hmac mysecret yoursecret supersecret topsecret notasecret
	development production staging local localhost key keys your here long very strong random
	string value super attack quick brown jumps over lazy lorem ipsum dolor amet consectetur
	qwertyuiop asdfghjkl zxcvbnm jwt api app dev prod this that for and the with from mine
`)
