#!/usr/bin/env bash
# lemonade summary: the six parameter counts of the original report's
# discovered models (its Figures 5-10), through the --arch path.
source "$(dirname "$0")/lib.sh"

counts() { # NAME F ARCH TOTAL TRAINABLE NONTRAINABLE
    local out; out=$($LEMONADE summary --filters "$2" --arch "$3" 2>&1)
    if echo "$out" | grep -qx "Total params: $4" && echo "$out" | grep -qx "Trainable params: $5" \
       && echo "$out" | grep -qx "Non-trainable params: $6"; then ok "$1"
    else fail "$1" "$(echo "$out" | grep params | tr '\n' ' ')"; fi
}
counts params_fig5_F64_cbr_cbr 64 conv,bn,relu,conv,bn,relu 539,850 539,594 256
counts params_fig6_F64_cr      64 conv,relu                 502,410 502,410 0
counts params_fig7_F8_cccbr     8 conv,conv,conv,bn,relu    64,010  63,994  16
counts params_fig8_F4_cr        4 conv,relu                 31,410  31,410  0
counts params_fig9_F16_cr      16 conv,relu                 125,610 125,610 0
counts params_fig10_F64_cbrccbr 64 conv,bn,relu,conv,conv,bn,relu 576,778 576,522 256

out=$($LEMONADE summary --filters 8 --arch conv,bn,relu,conv,relu,add\(3\))
echo "$out" | grep -qE '^ add_6 \(ScaledAdd\) +\(None, 28, 28, 8\) +8 +activation_5, activation_3' \
    && ok summary_add_row || fail summary_add_row "$out"
echo "$out" | grep -qE '^ dense \(Dense\) +\(None, 10\) +62730$' && ok summary_dense_row || fail summary_dense_row "$out"

# A saved model summarises the same as its --arch.
$LEMONADE train --data data/fixture --arch conv,bn,relu,conv,relu --filters 4 --epochs 1 --train-limit 200 \
    --save "$TMP/m.json" >/dev/null 2>&1
[ "$($LEMONADE summary "$TMP/m.json" | grep params)" = "$($LEMONADE summary --filters 4 --arch conv,bn,relu,conv,relu | grep params)" ] \
    && ok summary_model_file || fail summary_model_file "$($LEMONADE summary "$TMP/m.json" 2>&1 | tail -5)"
jq -e '.nodes | length == 6' "$TMP/m.json" >/dev/null && ok model_json_jq || fail model_json_jq "jq failed"
$LEMONADE train --data data/fixture --model "$TMP/m.json" --epochs 1 --train-limit 200 >/dev/null 2>&1 \
    && ok train_from_model || fail train_from_model "exit $?"
head -c 100 "$TMP/m.bin" >"$TMP/cut.bin"; cp "$TMP/m.json" "$TMP/cut.json"
sed -i 's/"m.bin"/"cut.bin"/' "$TMP/cut.json"
expect_exit summary_truncated_weights 1 "cut.bin: truncated" $LEMONADE summary "$TMP/cut.json"
expect_exit summary_missing_file 1 "nope.json: cannot open" $LEMONADE summary "$TMP/nope.json"
expect_exit summary_no_args 2 "give either --arch" $LEMONADE summary
expect_exit train_model_and_arch 2 "cannot be combined" $LEMONADE train --model "$TMP/m.json" --arch conv
finish
