/* test_cli_options.c - every `mdsrec` command's options through the built tool: an unknown
   option, a missing value and a value out of range or of the wrong type each exit 2 with
   one message naming the option; --help exits 0 with the table's usage and options; the
   rules across options have their own messages; the spellings scripts use still work.
   Runs $MDSREC_BIN in $MDSREC_TMP. */
#include "check.h"
#include "test_data_helpers.h"

/* One error case: the arguments, and what stderr must hold (all of them). */
typedef struct {
    const char *args;
    const char *want[3];
} usage_case;

/* Per command: an unknown option, a missing value, a bad value (range, type or name). None
   of them reaches a file: the options fail first. */
static const usage_case cases[] = {
    {"bench --bogus x.mdsb", {"unknown option '--bogus'", "see mdsrec bench --help"}},
    {"bench x.mdsb --calls", {"--calls: missing value"}},
    {"bench x.mdsb --calls 0", {"--calls: expected an integer >= 1, got '0'"}},
    {"bench x.mdsb -k ten", {"-k: expected an integer >= 1, got 'ten'"}},
    {"bench x.mdsb --candidates --hops 3", {"--hops: expected an integer in 1..2, got '3'"}},
    {"eval --model m --bogus", {"unknown option '--bogus'", "see mdsrec eval --help"}},
    {"eval --model m --threads", {"--threads: missing value (expected N)"}},
    {"eval --baseline pop --data d --knn-k 0", {"--knn-k: expected an integer >= 1, got '0'"}},
    {"eval --baseline knn --data d", {"--baseline: expected one of pop, itemknn, contentknn, got 'knn'"}},
    {"eval --model m --split train", {"--split: expected one of valid, test, both, got 'train'"}},
    {"export --model m --out o --bogus", {"unknown option '--bogus'", "see mdsrec export --help"}},
    {"export --model m --out o --dtype", {"--dtype: missing value (expected f32|f16|i8|pq)"}},
    {"export --model m --out o --dtype f64", {"--dtype: expected one of f32, f16, i8, pq, got 'f64'"}},
    {"export --model m --out o --neighbours 0", {"--neighbours: expected an integer >= 1, got '0'"}},
    {"export --model m --out o --neighbours-format sparse", {"--neighbours-format: expected one of csr, compact"}},
    {"featurize text --dir d --bogus", {"unknown option '--bogus'", "see mdsrec featurize text --help"}},
    {"featurize text --dir d --width", {"--width: missing value"}},
    {"featurize text --dir d --width 0", {"--width: expected an integer in 1..65536, got '0'"}},
    {"featurize text --dir d --buckets-log2 25", {"--buckets-log2: expected an integer in 4..24, got '25'"}},
    {"featurize text --dir d --catalog-format xls", {"--catalog-format: expected one of auto, atomic, tsv, csv, jsonl"}},
    {"featurize image --dir d --width 3", {"unknown option '--width'", "see mdsrec featurize image --help"}},
    {"featurize image --dir d --images", {"--images: missing value (expected DIR)"}},
    {"featurize image --dir d --threads many", {"--threads: expected an integer in 0..64, got 'many'"}},
    {"featurize matrix --dir d --name m --unigrams", {"unknown option '--unigrams'", "featurize matrix --help"}},
    {"featurize matrix --dir d --name m --path", {"--path: missing value (expected FILE)"}},
    {"featurize matrix --dir d --name m --format xls", {"--format: expected one of npy, f32, csv, got 'xls'"}},
    {"featurize matrix --dir d --name behaviour --path p", {"--name: expected a name of letters", "got 'behaviour'"}},
    {"featurize matrix --dir d --path p", {"--name NAME is required"}},
    {"featurize attributes --dir d --width 3", {"unknown option '--width'", "featurize attributes --help"}},
    {"featurize attributes --dir d --min-count", {"--min-count: missing value (expected N)"}},
    {"featurize attributes --dir d --min-count 0", {"--min-count: expected an integer >= 1, got '0'"}},
    {"featurize attributes --dir d --separators ''", {"--separators: expected at least one separator character"}},
    {"featurize attributes --dir d", {"attributes needs --path FILE.json, or --catalog PATH --column C"}},
    {"featurize attributes --dir d --path a.json --column tags", {"two sources"}},
    {"featurize sound --dir d", {"unknown kind \"sound\""}},
    {"generate --out o --visitors 1 --items 2 --events 3 --bogus", {"unknown option '--bogus'", "see mdsrec generate --help"}},
    {"generate --out o --visitors 1 --items 2", {"--events"}},
    {"generate --out o --visitors 1 --items 1 --events 3", {"--items: expected an integer"}},
    {"generate --out o --visitors 1 --items 2 --events 3 --stay 0.9 --drift 0.2", {"sum <= 1"}},
    {"graph --dir d --bogus", {"unknown option '--bogus'", "see mdsrec graph --help"}},
    {"graph --dir d --window", {"--window: missing value (expected W)"}},
    {"graph --dir d --k 0", {"--k: expected an integer in 1..1000, got '0'"}},
    {"graph --dir d --beta -1", {"--beta: expected a number >= 0, got '-1'"}},
    {"graph --dir d --threads 65", {"--threads: expected an integer in 0..64, got '65'"}},
    {"graph --dir d --features a,b:c", {"--features: expected feature names", "got 'a,b:c'"}},
    {"graph --k 3", {"--dir DIR is required"}},
    {"inspect --bogus x.mdsb", {"unknown option '--bogus'", "see mdsrec inspect --help"}},
    {"inspect x.mdsb y.mdsb", {"unexpected argument 'y.mdsb'"}},
    {"inspect", {"FILE is required"}},
    {"prepare --out o --bogus", {"unknown option '--bogus'", "see mdsrec prepare --help"}},
    {"prepare --out o --kcore", {"--kcore: missing value (expected K)"}},
    {"prepare --out o --kcore -3", {"--kcore: expected an integer in 0..4294967295, got '-3'"}},
    {"prepare --out o --inter-format xml", {"--inter-format: expected one of auto, atomic, tsv, csv, jsonl, sequences"}},
    {"prepare --inter i", {"--out DIR is required"}},
    {"recommend x.mdsb --bogus", {"unknown option '--bogus'", "see mdsrec recommend --help"}},
    {"recommend x.mdsb --history", {"--history: missing value"}},
    {"recommend x.mdsb -k 0", {"-k: expected an integer >= 1, got '0'"}},
    {"recommend x.mdsb --repeat 1.5", {"--repeat: expected an integer >= 1, got '1.5'"}},
    {"recommend x.mdsb --candidates --popular-head -1", {"--popular-head: expected an integer"}},
    {"synth --out o --items 10 --bogus", {"unknown option '--bogus'", "see mdsrec synth --help"}},
    {"synth --out o --items", {"--items: missing value (expected N)"}},
    {"synth --out o --items 0", {"--items: expected an integer in 1..16777216, got '0'"}},
    {"synth --out o --items 10 --dtype fp64", {"--dtype: expected one of f32, f16, i8, pq, got 'fp64'"}},
    {"synth --out o --items 10 --pool middle", {"--centre: expected one of none, last, mean, token, got 'middle'"}},
    {"synth --out o --items 10 --channels id,,text", {"--channels: expected a comma list"}},
    {"train --data d --out o --bogus", {"unknown option '--bogus'", "see mdsrec train --help"}},
    {"train --data d --out o --epoch 3", {"unknown option '--epoch'", "did you mean --epochs?"}},
    {"train --data d --out", {"--out: missing value (expected DIR)"}},
    {"train --data d --out o --epochs abc", {"--epochs: expected an integer in 1..100000, got 'abc'"}},
    {"train --data d --out o --dropout 1", {"--dropout: expected a number in [0, 1), got '1'"}},
    {"train --data d --out o --lr 0", {"--lr: expected a number > 0, got '0'"}},
    {"train --data d --out o --sampler zipf", {"--sampler: expected one of uniform, popular, got 'zipf'"}},
    {"train --data d --out o --negatives", {"--negatives: missing value (expected K)"}},
    {"train --data d --out o --time-budget -1", {"--time-budget: expected a number >= 0, got '-1'"}},
    {"train --data d --out o --aux-negatives x", {"--aux-negatives: expected an integer in 0..16777215, got 'x'"}},
    {"train --data d --out o --negatives 99999999", {"--negatives: expected an integer in 0..16777215"}},
    {"train --data d --out o --label-smoothing 1", {"--label-smoothing: expected a number in [0, 1), got '1'"}},
    {"train --data d --out o --weight-decay -0.1", {"--weight-decay: expected a number in [0, 1], got '-0.1'"}},
    {"train --data d --out o --max-len 2000", {"--max-len: expected an integer in 1..1024, got '2000'"}},
    {"train --data d --out o --center middle", {"--centre: expected one of none, last, mean, token"}},
    {"train --data d --out o --model gru", {"--model: expected one of mdsrec, sasrec, sasrecf, pop, itemknn"}},
    {"train --data d --out o --windows some", {"--windows: expected one of last, all, got 'some'"}},
    {"train --data d --out o --id-graph both", {"--id-graph: expected one of none, behaviour, got 'both'"}},
    {"train --data d --out o --gate open", {"--gate: expected one of fixed, learned, global, got 'open'"}},
    {"train --data d --out o --channels ,", {"--channels: expected a comma list of channel names"}},
    {"report --model m --out o --bogus", {"unknown option '--bogus'", "see mdsrec report --help"}},
    {"report --model m --out o --visitors", {"--visitors: missing value (expected N)"}},
    {"report --model m --out o --visitors 0", {"--visitors: expected an integer >= 1, got '0'"}},
    {"report --model m --out o --examples 101", {"--examples: expected an integer in 1..100, got '101'"}},
    {"train --out o", {"--data PATH is required"}},
    /* the rules across options */
    {"train --data d", {"--out DIR is required for --model mdsrec"}},
    {"train --data d --out o --heads 3", {"--heads 3 does not divide --dim 64"}},
    {"train --data d --out o --model itemknn", {"--out: itemknn is evaluated only, no model is written"}},
    {"train --data d --out o --model sasrec --id-features", {"--id-features is for --model mdsrec"}},
    {"train --data d --out o --model sasrecf --channel-ids", {"--channel-ids is for --model mdsrec"}},
    {"train --data d --out o --model sasrec --no-channel-ids", {"--no-channel-ids is for --model mdsrec"}},
    {"train --data d --out o --channel-ids --no-channel-ids", {"--channel-ids and --no-channel-ids: give one"}},
    {"eval", {"nothing to evaluate"}},
    {"recommend x.mdsb --hops 2", {"--popular-head, --hops and --neighbours need --candidates"}},
    {"bench x.mdsb --data d", {"--data, --visitors and --seed need --candidates"}},
    {"eval --bundle b.mdsb", {"--bundle needs --data PATH"}},
    {"eval --baseline pop", {"--baseline needs --data PATH"}},
    {"eval --model m --ranks", {"--ranks needs --json FILE"}},
    {"export --out o", {"--model PATH is required"}},
    {"add-items --out o --bundle b", {"nothing to do"}},
    {"add-items --out o --bundle b --from d", {"--from needs --model"}},
    {"report --out o", {"--model RUN is required"}},
    {"report --model m", {"--out FILE is required"}},
    {"synth --out o --items 10 --dim 30 --heads 4", {"--heads 4 does not divide --dim 30"}},
    {"synth --out o --items 10 --dtype i8 --layout panels", {"--layout panels needs --dtype f32"}},
    {"site --bundle b --out o --image-size x", {"--image-size: expected an integer in 0..8192, got 'x'"}},
    {"site --bundle b --out o --images i --image-pattern x.png", {"--image-pattern: expected {} for the key"}},
    {"site --bundle b", {"--out DIR is required"}},
};

/* Every command with the options its help must list. */
static const struct {
    const char *cmd;
    const char *opts[4];
} helps[] = {
    {"bench", {"--calls N", "--warmup N", "-k K", "--candidates"}},
    {"eval", {"--model PATH", "--bundle FILE", "--split valid|test|both"}},
    {"export", {"--model PATH", "--dtype f32|f16|i8|pq", "--weights f32|f16|q8", "--neighbours-format csr|compact"}},
    {"add-items", {"--bundle FILE", "--from DIR", "--retire KEYS"}},
    {"featurize", {"text", "image", "matrix", "attributes"}},
    {"featurize attributes", {"--dir DIR", "--path FILE.json", "--min-count N"}},
    {"featurize text", {"--dir DIR", "--text-fields LIST", "--buckets-log2 B"}},
    {"featurize image", {"--dir DIR", "--image-map TSV", "--no-center"}},
    {"featurize matrix", {"--dir DIR", "--path FILE", "--format npy|f32|csv"}},
    {"graph", {"--dir DIR", "--k K", "--window W"}},
    {"inspect", {"usage: mdsrec inspect FILE\n"}},
    {"prepare", {"--out DIR", "--inter PATH", "--kcore K"}},
    {"report", {"--model RUN", "--out FILE", "--bundle FILE", "--visitors N"}},
    {"recommend", {"usage: mdsrec recommend FILE [options]", "--history KEY,KEY,...", "-k N", "--popular-head P"}},
    {"site", {"--bundle FILE", "--out DIR", "--images DIR", "--web DIR"}},
    {"synth", {"--out FILE", "--items N", "--centre none|last|mean|token"}},
    {"train", {"--data PATH", "--epochs N", "--centre none|last|mean|token"}},
};

int main(void) {
    /* every case: exit 2, nothing on stdout, one line on stderr holding every wanted piece */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = td_run("%s", cases[i].args);
        int ok = rc == 2 && td_out[0] == 0 && strchr(td_err, '\n') == td_err + strlen(td_err) - 1;
        for (int w = 0; w < 3 && cases[i].want[w]; w++) ok = ok && strstr(td_err, cases[i].want[w]) != NULL;
        CHECK_MSG(ok, "mdsrec %s: exit %d, stderr: %s", cases[i].args, rc, td_err);
    }

    /* every command's help: exit 0, on stdout, the usage line and the table's options */
    CHECK(td_run("--help") == 0);
    char commands[sizeof td_out];
    snprintf(commands, sizeof commands, "%s", td_out);
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
        int rc = td_run("%s --help", helps[i].cmd);
        char usage[64];
        snprintf(usage, sizeof usage, "usage: mdsrec %s ", helps[i].cmd);
        int ok = rc == 0 && td_err[0] == 0 && !strncmp(td_out, usage, strlen(usage) - 1) && strstr(td_out, "exit codes");
        for (int w = 0; w < 4 && helps[i].opts[w]; w++) ok = ok && strstr(td_out, helps[i].opts[w]) != NULL;
        CHECK_MSG(ok, "mdsrec %s --help: exit %d:\n%s", helps[i].cmd, rc, td_out);
        CHECK(td_run("%s -h", helps[i].cmd) == 0 && !strncmp(td_out, usage, strlen(usage) - 1));
    }
    /* ... and no command of `mdsrec --help` goes untested */
    for (char *line = strtok(commands, "\n"); line; line = strtok(NULL, "\n")) {
        char name[32];
        if (sscanf(line, "  %31s", name) != 1 || line[0] != ' ') continue;
        int found = 0;
        for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) found |= !strcmp(helps[i].cmd, name);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            found += !strncmp(cases[i].args, name, strlen(name)) && cases[i].args[strlen(name)] == ' ';
        CHECK_MSG(found >= 2, "command %s: no help or no error case in this test", name);
    }

    /* the spellings that scripts and older tests use still work: -o, --pool, the long dtype
       names; the canonical ones too */
    char b[1024];
    snprintf(b, sizeof b, "%s/cli-options.mdsb", td_tmp());
    CHECK_MSG(td_run("synth -o '%s' --items 40 --dim 8 --dtype int8 --pool mean --seed 2", b) == 0, "%s", td_err);
    CHECK(td_run("inspect '%s'", b) == 0 && strstr(td_out, "item dtype  i8\n") && strstr(td_out, "pool        mean"));
    CHECK_MSG(td_run("synth --out='%s' --items 40 --dim 8 --dtype f16 --centre token --neighbours-format csr", b) == 0,
              "%s", td_err);
    CHECK(td_run("inspect '%s'", b) == 0 && strstr(td_out, "item dtype  f16\n") && strstr(td_out, "pool        token"));
    CHECK(td_run("recommend '%s' -k=2 --json", b) == 0 && strstr(td_out, "\"rank\":\t2"));
    CHECK(td_run("bench '%s' --calls=2 --warmup 0 --len 3", b) == 0 && strstr(td_out, "\"fresh\""));
    /* candidate mode through both commands (the synth bundle has neighbour lists) */
    CHECK(td_run("recommend '%s' --history item-000001 --candidates --popular-head 3 --json", b) == 0 &&
          strstr(td_out, "\"scored\":"));
    CHECK(td_run("bench '%s' --calls 2 --warmup 0 --len 3 --candidates --hops 2", b) == 0 &&
          strstr(td_out, "\"candidates\":{\"histories\":\"synthetic\"") && strstr(td_out, "\"recall\":"));
    remove(b);
    return check_done("test_cli_options");
}
