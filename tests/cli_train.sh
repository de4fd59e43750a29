#!/usr/bin/env bash
# lemonade train: output format, bad data and bad flags.
source "$(dirname "$0")/lib.sh"

# A short run on the fixture: one line per epoch with the agreed words, then
# the test line.
$LEMONADE train --data data/fixture --filters 4 --epochs 2 --threads 2 >"$TMP/train.out" 2>"$TMP/train.err"
if [ $? -eq 0 ] && [ "$(grep -cE '^epoch [12]/2  loss [0-9.]+ acc [0-9.]+  val_loss [0-9.]+ val_acc [0-9.]+  [0-9.]+ s  [0-9]+ img/s$' "$TMP/train.out")" -eq 2 ] \
   && grep -qE '^test_loss [0-9.]+ test_acc [0-9.]+$' "$TMP/train.out"; then ok train_output_format
else fail train_output_format "$(cat "$TMP/train.out" "$TMP/train.err")"; fi
grep -q "^data: data/fixture " "$TMP/train.err" && ok train_says_data_dir || fail train_says_data_dir "$(cat "$TMP/train.err")"

# Data directory problems: exit 1, one line naming the file and the problem.
mkdir -p "$TMP/d1"
expect_exit data_missing_dir 1 "no such directory" $LEMONADE train --data "$TMP/nope"
expect_exit data_empty_dir 1 "no train-images-idx3-ubyte" $LEMONADE train --data "$TMP/d1"
mkdir -p "$TMP/d2"; cp data/fixture/train-* "$TMP/d2/"
expect_exit data_missing_test 1 "t10k-images-idx3-ubyte.gz: missing" $LEMONADE train --data "$TMP/d2" --epochs 1
mkdir -p "$TMP/d3"; cp data/fixture/* "$TMP/d3/"
head -c 50000 data/fixture/train-images-idx3-ubyte.gz >"$TMP/d3/train-images-idx3-ubyte.gz"
expect_exit data_truncated_gzip 1 "d3/train-images-idx3-ubyte.gz: corrupt gzip" $LEMONADE train --data "$TMP/d3"
mkdir -p "$TMP/d4"; cp data/fixture/* "$TMP/d4/"
printf 'garbage, not a gzip nor an IDX file' >"$TMP/d4/train-labels-idx1-ubyte.gz"
expect_exit data_garbage 1 "d4/train-labels-idx1-ubyte.gz: wrong magic" $LEMONADE train --data "$TMP/d4"
expect_exit data_env_var 1 "LEMONADE_DATA=$TMP/d1: no train-images" env LEMONADE_DATA="$TMP/d1" $LEMONADE train

# Bad flags: exit 2, one line with a hint to --help.
expect_exit flag_not_number 2 "--epochs: 'x' is not a whole number.*--help" $LEMONADE train --epochs x
expect_exit flag_zero 2 "--batch: 0 is out of range" $LEMONADE train --batch 0
expect_exit flag_negative 2 "--filters: -3 is out of range" $LEMONADE train --filters -3
expect_exit flag_overflow 2 "--batch: 99999999999999999999 is out of range" $LEMONADE train --batch 99999999999999999999
expect_exit flag_unknown 2 "unknown option '--epoch'" $LEMONADE train --epoch 3
expect_exit flag_missing_value 2 "--seed needs a value" $LEMONADE train --seed
expect_exit flag_bad_lr 2 "--lr: '1e-3x' is not a number" $LEMONADE train --lr 1e-3x
expect_exit arch_unknown_layer 2 "unknown layer 'pool'" $LEMONADE train --arch conv,pool
expect_exit arch_first_not_conv 2 "first layer must be a conv" $LEMONADE train --arch bn,conv
$LEMONADE train --help | grep -q -- "--epochs N" && ok train_help || fail train_help "no --epochs in help"
finish
