"""A small corpus of our own, used to train the built-in tokenizers when ``pydoc_data.topics`` is missing.

Some Python builds leave out ``pydoc_data``; the app must still start with no network, so it falls back to this
text (written for tokviz, free to use). It is small, so training on it stops before 8192 tokens; the defaults
then offer the sizes it reached.

Example:
    >>> len(FALLBACK_CORPUS) > 4000, FALLBACK_CORPUS.isascii()
    (True, False)
"""

from __future__ import annotations

FALLBACK_CORPUS = """\
How text becomes tokens

A language model does not read letters. It reads a sequence of integers, and a tokenizer is the part that turns a
string into those integers and back again. The simplest tokenizer maps every character to its Unicode code point.
That works for any text, but the vocabulary is huge and most of it is never used, and a sentence becomes a long
sequence: one integer per character. Another simple tokenizer maps every byte of the UTF-8 encoding to a number
between 0 and 255. The vocabulary is tiny, every text can be encoded, and nothing is ever unknown; but sequences are
even longer, since a character outside ASCII takes two, three or four bytes.

A word tokenizer goes the other way. It splits the text into words and gives each word in its vocabulary a number.
Sequences are short, but the vocabulary has no end: new words, names, numbers and typos keep appearing, and every word
that was not seen when the vocabulary was built becomes the same unknown token. Whatever it was, it is lost.

Byte pair encoding sits in between. It starts from the 256 bytes and learns merges from a corpus: count every pair of
adjacent tokens, merge the most frequent pair into a new token, and repeat until the vocabulary has the size you asked
for. Common words end up as single tokens, rare words are spelled with a few pieces, and anything at all can still be
written with bytes. The merges are learned in order, so the first thousand merges of a large vocabulary are exactly
the merges of a small one.

Before counting, the text is cut into pieces by a regular expression, so that merges never cross from a word into the
punctuation after it. GPT-2's pattern keeps a single leading space with the word that follows it, which is why "hello"
at the start of a line and " hello" after a space are different tokens with different ids. The same pattern puts a
whole run of digits into one piece, so 1234567890 may become a few odd chunks, while GPT-4's pattern cuts numbers into
groups of at most three digits: 123, 456, 789 and 0. A year such as 1885 or 2024 is often a single token in one
tokenizer and two in another.

The compression ratio is the number of bytes per token. A byte tokenizer has a ratio of exactly one. A good BPE
tokenizer for English reaches about four bytes per token on ordinary prose, less on code, and much less on languages
it saw rarely during training. Emoji such as the globe or the rocket, and rare Chinese characters, are often cut into
their bytes, so one character becomes two, three or four tokens. Drawn naively, such a token prints as a replacement
character; drawn well, the byte pieces stay grouped under the character they belong to.

Some examples, to give the counts something to work with:

    def tokenize(text: str) -> list[int]:
        # Split the text into pieces, then apply merges inside each piece.
        ids = []
        for piece in pretokenize(text):
            ids.extend(apply_merges(piece.encode("utf-8")))
        return ids

    for i in range(10):
        print(i, i * i, 2 ** i)

The meeting is on Monday, March 3rd, 2025, at 10:30 in room 42. Tickets cost $12.50 or 11,99 EUR; about 1,234 people
came last year, up from 987 the year before. Call +1 555 0100 or write to hello@example.org.

Questions people ask: Why is " the" one token and "The" another? Why does a number take more tokens than a word of the
same length? Why does the same sentence cost more tokens in German, Russian or Japanese? What happens to a word the
tokenizer has never seen? Why does an emoji take four tokens? The answer is always the same: look at the merges, and at
the pieces the pattern made before any merge was applied.

Short texts in other languages, so that their letters appear at least once:
Deutsch: Zwölf große Boxkämpfer jagen Viktor quer über den Sylter Deich.
Français: Le cœur déçu mais l'âme plutôt naïve, Louÿs rêva de crapaüter en canoë au delà des îles.
Español: El pingüino Wenceslao hizo kilómetros bajo exhaustiva lluvia y frío.
Русский: Съешь же ещё этих мягких французских булок, да выпей чаю.
Ελληνικά: Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.
中文: 我能吞下玻璃而不伤身体。你好，世界。
日本語: いろはにほへと ちりぬるを わかよたれそ つねならむ
한국어: 다람쥐 헌 쳇바퀴에 타고파

A few closing lines. Tokenizers are trained once and used for years, and their quirks shape what a model finds easy
and hard: counting letters in a word, adding long numbers, or reading text with unusual spacing. Looking at the tokens
is the quickest way to understand those quirks. Paste a text, compare tokenizers side by side, hover a token to see
its bytes, and switch on the pre-tokenizer's pieces to see where merges were allowed to happen.
"""
