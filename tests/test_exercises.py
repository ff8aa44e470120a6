"""xl.exercises: feedback that explains, checkers that pass on the book's solutions, the student edition."""

from pathlib import Path

import nbformat
import pytest
import torch
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import xai_lib as xl
from xai_lib._core import BOOK_BUILD_ENV
from xai_lib.booktools.notebooks import (
    COLAB_INSTALL_CELL,
    PLACEHOLDER,
    Directive,
    convention_problems,
    skeleton,
    split_markdown,
    student_edition,
)
from xai_lib.exercises import (
    Case,
    ExerciseFailed,
    Feedback,
    check_function,
    checker,
    compare,
    random_cases,
)
from xai_lib.exercises.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = sorted(
    p for p in BOOK.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)


def solution_namespace(path: Path, label: str) -> dict:
    """Run the code cells of the gated solution ``label`` of a notebook; return their namespace."""
    nb = nbformat.read(path, as_version=4)
    inside, namespace = False, {"torch": torch, "xl": xl}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            names = [
                (p.name, p.argument)
                for p in split_markdown(cell.source)
                if isinstance(p, Directive)
            ]
            inside = ("solution-start", label) in names or (
                inside and ("solution-end", "") not in names
            )
        elif inside:
            exec(compile(cell.source, f"{path.name}:{label}", "exec"), namespace)
    return namespace


# --------------------------------------------------------------------------- Feedback and checker


def test_feedback_is_truthy_iff_passed_and_explains_itself():
    ok = Feedback.success("f is correct")
    bad = Feedback.failure(
        "f has the wrong shape", ["yours (3,), expected (3, 1)"], "keep the batch dim"
    )
    assert ok and not bad
    assert str(ok) == "PASSED: f is correct"
    assert (
        str(bad)
        == "NOT YET: f has the wrong shape\n  - yours (3,), expected (3, 1)\n  Hint: keep the batch dim"
    )
    assert repr(bad) == str(bad)
    assert (
        'class="xl-feedback xl-feedback-fail"' in bad._repr_html_()
        and "Hint" in bad._repr_html_()
    )
    assert "xl-feedback-pass" in ok._repr_html_() and "Hint" not in ok._repr_html_()
    assert "&lt;b&gt;" in Feedback.failure("<b>")._repr_html_()


def test_checker_raises_only_in_the_book_build(monkeypatch):
    @checker
    def check_always_wrong(fn):
        return Feedback.failure("wrong", ["numbers"], "hint")

    @checker
    def check_not_feedback(fn):
        return False

    assert not check_always_wrong(None)
    with pytest.raises(TypeError, match="must return a Feedback"):
        check_not_feedback(None)
    monkeypatch.setenv(BOOK_BUILD_ENV, "1")
    with pytest.raises(
        ExerciseFailed,
        match="the book's solution fails check_always_wrong:\nNOT YET: wrong",
    ):
        check_always_wrong(None)


# --------------------------------------------------------------------------- compare


def test_compare_accepts_the_expected_answer():
    x = torch.randn(3, 4, dtype=torch.float64)
    assert compare(x.clone(), x)
    assert compare(x.numpy(), x.numpy())
    assert compare(x + 1e-12, x)
    assert compare(torch.tensor(2.0), 2.0) and compare(3, 3) and compare("a", "a")
    assert compare((x, 1.5), (x, 1.5))
    assert compare(x.clone().requires_grad_(), x)


@pytest.mark.parametrize(
    "got, expected, title, detail",
    [
        (..., 1.0, "not answered yet", "replace the `...`"),
        (None, torch.zeros(2), "is None", "forget a `return`"),
        ([1.0, 2.0], torch.zeros(2), "should be a torch.Tensor", "got list"),
        (
            torch.zeros(2, 3),
            torch.zeros(3, 2),
            "wrong shape",
            "missing reshape, transpose or keepdim",
        ),
        (
            torch.zeros(()),
            torch.zeros(3, 2),
            "wrong shape",
            "did you sum or average over everything",
        ),
        (
            torch.zeros(2, dtype=torch.float32),
            torch.zeros(2, dtype=torch.float64),
            "dtype float32, expected float64",
            "input's dtype",
        ),
        (
            torch.tensor([1.0, float("nan")]),
            torch.tensor([1.0, 2.0]),
            "wrong values",
            "1 NaN value",
        ),
        (
            torch.tensor([1.0, 2.5, 3.0]),
            torch.tensor([1.0, 2.0, 3.0]),
            "wrong values",
            "largest difference is 0.5 at index (1,): yours 2.5, expected 2",
        ),
        (
            -torch.arange(1.0, 5.0),
            torch.arange(1.0, 5.0),
            "wrong values",
            "sign flipped",
        ),
        (
            2 * torch.arange(1.0, 5.0),
            torch.arange(1.0, 5.0),
            "wrong values",
            "times 2: a missing or extra factor",
        ),
        (2.5, 2.0, "is 2.5, expected 2.0", None),
        ("b", "a", "is 'b', expected 'a'", None),
        (
            (torch.zeros(2),),
            (torch.zeros(2), 1.0),
            "sequence of 2 values",
            "of length 1",
        ),
    ],
)
def test_compare_says_what_is_wrong(got, expected, title, detail):
    feedback = compare(got, expected, hint="the hint")
    assert not feedback
    assert title in feedback.title
    if detail:
        assert any(detail in d for d in feedback.details), feedback.details
    assert feedback.hint and str(feedback).endswith("Hint: the hint")


def test_compare_counts_the_values_that_differ():
    expected = torch.zeros(10, dtype=torch.float64)
    got = expected.clone()
    got[[2, 7]] = 1.0
    assert "2 of 10 value(s) differ" in str(compare(got, expected))
    assert compare(got, expected, atol=1.5)


# --------------------------------------------------------------------------- check_function


def reference_double(x):
    return 2 * x


def cases():
    return random_cases(
        lambda g: torch.randn(3, 2, generator=g, dtype=torch.float64), seeds=(0, 1)
    )


def test_check_function_passes_a_correct_function_on_every_case():
    feedback = check_function(lambda x: x + x, reference_double, cases(), name="double")
    assert feedback and feedback.title == "double is correct on all 2 cases"


def test_check_function_reports_the_line_that_raised():
    def double(x):
        y = x * 2
        return y.nonexistent()

    feedback = check_function(double, reference_double, cases())
    assert not feedback and feedback.title == "double raised an exception"
    assert (
        feedback.details[0]
        == "AttributeError: 'Tensor' object has no attribute 'nonexistent'"
    )
    assert "random case (seed 0): tensor (3, 2) float64" in feedback.details[1]
    assert "in double, line" in feedback.details[2] and feedback.details[2].endswith(
        "return y.nonexistent()"
    )


def test_check_function_names_the_first_wrong_case():
    def double(x):
        return 2 * x if x.sum() > 0 else x

    sums = [float(c.args[0].sum()) for c in cases()]
    feedback = check_function(double, reference_double, cases())
    wrong = next(k for k, s in enumerate(sums, start=1) if s <= 0)
    assert not feedback and f"on case {wrong} of 2" in feedback.details[-1]


def test_check_function_catches_in_place_changes_and_protects_the_reference():
    seen = []

    def reference(x):
        seen.append(x.clone())
        return 2 * x

    def sneaky(x):
        return x.mul_(2)

    case = Case(torch.ones(2, dtype=torch.float64), label="ones")
    feedback = check_function(sneaky, reference, [case])
    assert not feedback and "changed its input in place (argument 1)" in feedback.title
    assert torch.equal(
        case.args[0], torch.ones(2, dtype=torch.float64)
    ) and torch.equal(seen[0], case.args[0])


def test_check_function_not_written_yet_and_not_a_function():
    def todo(x):
        raise NotImplementedError("write your solution here")

    assert "is not written yet" in check_function(todo, reference_double, cases()).title
    feedback = check_function(reference_double(1.0), reference_double, cases())
    assert (
        "should be a function" in feedback.title
        and "without calling it" in feedback.hint
    )
    with pytest.raises(ValueError, match="at least one case"):
        check_function(todo, reference_double, [])


def test_case_labels_describe_the_inputs():
    assert (
        Case(torch.zeros(2, 3), torch.nn.Linear(2, 1), steps=4).label
        == "inputs tensor (2, 3) float32, Linear, steps=4"
    )


# --------------------------------------------------------------------------- chapter 0


def test_ch00_checker_passes_the_prefaces_solution():
    namespace = solution_namespace(
        BOOK / "00_preface.ipynb", "ch00-linear-contributions"
    )
    assert xl.exercises.ch00.check_linear_contributions(
        namespace["linear_contributions"]
    )


@pytest.mark.parametrize(
    "mistake, message",
    [
        (lambda model, x: model.weight[0] * x + model.bias, "wrong values"),
        (lambda model, x: (model.weight[0] * x).sum(1), "wrong shape"),
        (lambda model, x: model.weight * x.double(), "dtype"),
    ],
)
def test_ch00_checker_explains_typical_mistakes(mistake, message):
    feedback = xl.exercises.ch00.check_linear_contributions(mistake)
    assert not feedback and message in feedback.title and "bias" in feedback.hint


def test_chapter_modules_load_on_first_use():
    assert (
        xl.exercises.ch00.check_linear_contributions.__name__
        == "check_linear_contributions"
    )
    with pytest.raises(AttributeError, match="no exercises for chapter 99"):
        _ = xl.exercises.ch99


# --------------------------------------------------------------------------- conventions


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_book_notebooks_follow_the_conventions(path):
    assert convention_problems(nbformat.read(path, as_version=4), path.name) == []


def exercise_notebook(checker_cell=True, dropdown=True):
    cells = [
        new_markdown_cell("# Chapter"),
        new_code_cell(COLAB_INSTALL_CELL),
        new_code_cell("import torch"),
        new_markdown_cell(
            "```{exercise-start} Doubling\n:label: ch99-double\n```\nWrite `double(x)`.\n"
            "```{exercise-end}\n```"
        ),
        new_markdown_cell(
            "Before the solution.\n\n```{solution-start} ch99-double\n"
            + (":class: dropdown\n" if dropdown else "")
            + "```\nSolution prose."
        ),
        new_code_cell(
            'import math\n\n\ndef double(x, factor=2):\n    """Twice x."""\n    return factor * x\n\n\n'
            "answer = double(1)",
            outputs=[nbformat.v4.new_output("stream", text="x")],
        ),
        new_code_cell("print(double(2))"),
        new_markdown_cell("Inside still.\n```{solution-end}\n```\nAfter the solution."),
    ]
    if checker_cell:
        cells.append(new_code_cell("xl.exercises.ch99.check_double(double)"))
    cells.append(new_markdown_cell("```{note}\nKept as is.\n```"))
    return new_notebook(cells=cells)


def test_convention_problems_are_named():
    assert convention_problems(exercise_notebook()) == [
        "notebook: cell 5 holds outputs; store notebooks without outputs"
    ]
    problems = convention_problems(
        exercise_notebook(checker_cell=False, dropdown=False), "ch99"
    )
    assert (
        "ch99: cell 4: solution-start 'ch99-double' needs `:class: dropdown`"
        in problems
    )
    assert (
        "ch99: the solution ending in cell 7 must be followed by a checker code cell"
        in problems
    )
    nb = exercise_notebook()
    nb.cells[1].source = "import sys"
    assert any("COLAB_INSTALL_CELL" in p for p in convention_problems(nb))
    nb = exercise_notebook()
    del nb.cells[7]
    assert any("never ends" in p for p in convention_problems(nb))
    nb = exercise_notebook()
    nb.cells[3].source = nb.cells[3].source.replace("ch99-double", "double")
    assert (
        "notebook: exercise label 'double' should read chNN-name (e.g. ch05-baselines)"
        in convention_problems(nb)
    )


# --------------------------------------------------------------------------- the student edition


def test_student_edition_replaces_solutions_by_placeholders():
    nb = student_edition(exercise_notebook())
    sources = [(c.cell_type, c.source) for c in nb.cells]
    text = "\n".join(s for _, s in sources)
    assert sources[1] == ("code", COLAB_INSTALL_CELL)
    assert "return factor * x" not in text and "print(double(2))" not in text
    assert (
        "Solution prose" not in text
        and "Inside still" not in text
        and "solution-" not in text
    )
    assert sources[3] == ("markdown", "**Exercise: Doubling**\n\nWrite `double(x)`.")
    assert sources[4] == ("markdown", "Before the solution.")
    placeholder = sources[5][1]
    assert sources[5][0] == "code" and placeholder.startswith(PLACEHOLDER)
    assert (
        'import math\n\ndef double(x, factor=2):\n    """Twice x."""\n    raise NotImplementedError'
        in placeholder
    )
    assert "answer = ..." in placeholder
    assert sources[6] == ("markdown", "After the solution.")
    assert sources[7] == ("code", "xl.exercises.ch99.check_double(double)")
    assert sources[8] == ("markdown", "```{note}\nKept as is.\n```")
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    namespace = {}
    exec(placeholder, namespace)
    with pytest.raises(NotImplementedError):
        namespace["double"](1)


def test_student_edition_adds_a_missing_install_cell_and_rejects_unbalanced_solutions():
    nb = exercise_notebook()
    del nb.cells[1]
    assert student_edition(nb).cells[0].source == COLAB_INSTALL_CELL
    nb = exercise_notebook()
    del nb.cells[7]
    with pytest.raises(ValueError, match="never ends"):
        student_edition(nb)
    nb = exercise_notebook()
    del nb.cells[4]
    with pytest.raises(ValueError, match="without its solution-start"):
        student_edition(nb)


def test_skeleton_falls_back_to_the_bare_placeholder():
    assert skeleton("%pip install x") == ""
    assert skeleton("print(1)") == ""
    assert skeleton("a = b = 3\nx[0] = 1") == "a = b = ..."


def test_skeleton_keeps_a_class_and_its_method_signatures():
    code = (
        'import torch\n\nclass Clamp(torch.autograd.Function):\n    """Doc."""\n    @staticmethod\n'
        "    def forward(ctx, x):\n        return x.clamp_min(0)\n\nclass Empty:\n    size = 3\n"
    )
    namespace = {}
    exec(
        skeleton(code), namespace
    )  # the placeholder defines the names the checker cell uses
    assert (
        issubclass(namespace["Clamp"], torch.autograd.Function)
        and namespace["Clamp"].__doc__ == "Doc."
    )
    with pytest.raises(NotImplementedError):
        namespace["Clamp"].forward(None, torch.zeros(1))
    assert "Empty" in namespace


def test_split_markdown_reads_fences_options_and_nesting():
    parts = split_markdown(
        "text\n````{exercise} Title\n:label: ch01-a\n:class: x\nbody\n```python\ncode\n```\n````\n"
        ":::{note}\ncolon\n:::\ntail"
    )
    assert parts[0] == "text" and parts[-1] == "tail"
    exercise, note = parts[1], parts[2]
    assert (exercise.name, exercise.argument, exercise.options) == (
        "exercise",
        "Title",
        {"label": "ch01-a", "class": "x"},
    )
    assert exercise.body == "body\n```python\ncode\n```"
    assert (note.name, note.body) == ("note", "colon")


def test_command_line_writes_the_student_edition(tmp_path, capsys):
    book = tmp_path / "book"
    (book / "images").mkdir(parents=True)
    (book / "images" / "a.png").write_bytes(b"png")
    nbformat.write(exercise_notebook(), book / "ch99.ipynb")
    assert main(["student", str(book), str(tmp_path / "out")]) == 0
    assert "wrote the student edition of 1 notebook(s)" in capsys.readouterr().out
    assert (tmp_path / "out" / "images" / "a.png").read_bytes() == b"png"
    written = nbformat.read(tmp_path / "out" / "ch99.ipynb", as_version=4)
    assert any(c.source.startswith(PLACEHOLDER) for c in written.cells)
    assert main(["student", str(book), str(book / "out")]) == 2
    assert "outside the book folder" in capsys.readouterr().err
    assert main(["lint", str(book)]) == 1 and "holds outputs" in capsys.readouterr().out


@pytest.mark.slow
def test_student_edition_of_the_preface_runs_to_the_end(tmp_path):
    from nbclient import NotebookClient

    main(["student", str(BOOK), str(tmp_path)])
    nb = nbformat.read(tmp_path / "00_preface.ipynb", as_version=4)
    NotebookClient(
        nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = "\n".join(
        o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "NOT YET: linear_contributions is not written yet" in outputs
    assert "Traceback" not in outputs, outputs


def test_a_false_claim_stops_the_book_build_and_only_warns_elsewhere(monkeypatch):
    monkeypatch.delenv(BOOK_BUILD_ENV, raising=False)
    assert xl.exercises.claim(True, "true") is True
    with pytest.warns(xl.exercises.ClaimWarning, match="SmoothGrad lowers EF"):
        assert xl.exercises.claim(False, "SmoothGrad lowers EF") is False
    monkeypatch.setenv(BOOK_BUILD_ENV, "1")
    with pytest.raises(xl.exercises.ClaimFailed, match="SmoothGrad lowers EF"):
        xl.exercises.claim(torch.tensor(False), "SmoothGrad lowers EF")


# --------------------------------------------------------------------------- shortcuts


def test_by_hand_checks_refuse_the_library_function_they_rewrite():
    saliency = xl.exercises.ch04.check_saliency_map(
        lambda m, x, t: xl.aggregate(xl.saliency(m, x, t), "max_abs")
    )
    assert not saliency
    assert (
        "calls xl.saliency, the library function this exercise asks you to write by hand"
        in (saliency.title)
    )
    assert saliency.hint and "torch.autograd.grad" in saliency.hint

    def my_integrated_gradients(model, x, target, baseline, steps):
        return xl.integrated_gradients(
            model, x, target, baseline=baseline, steps=steps, rule="midpoint"
        )

    ig = xl.exercises.ch05.check_integrated_gradients(my_integrated_gradients)
    assert not ig and "calls xl.integrated_gradients" in ig.title


def test_refusing_covers_every_alias_and_restores_them():
    import functools

    from xai_lib.exercises.shortcuts import ShortcutUsed, refusing
    from xai_lib.methods import gradients
    from xai_lib.methods.gradients import saliency as renamed

    model = torch.nn.Linear(3, 2).double()
    x = torch.randn(2, 3, dtype=torch.float64)
    before = xl.saliency(model, x, 0)
    calls = [
        lambda: xl.saliency(model, x, 0),
        lambda: xl.METHODS["saliency"](model, x, 0),
        lambda: gradients.saliency(model, x, 0),
        lambda: renamed(model, x, 0),
        lambda: functools.partial(xl.saliency, model)(x, 0),
    ]
    for call in calls:
        with refusing([xl.saliency]) as refused:
            with pytest.raises(ShortcutUsed):
                call()
        assert refused == ["xl.saliency"]
    assert torch.equal(xl.saliency(model, x, 0), before)  # restored
    with pytest.raises(RuntimeError), refusing([xl.saliency]):
        raise RuntimeError("the student's code failed")
    assert torch.equal(xl.saliency(model, x, 0), before)  # restored after an error too


def test_a_swallowed_refusal_still_fails_the_check():
    def sneaky(model, x, target):
        try:
            return xl.aggregate(xl.saliency(model, x, target), "max_abs")
        except BaseException:  # noqa: B036 (catches the refusal on purpose)
            return torch.zeros(len(x), 1, *x.shape[2:], dtype=x.dtype)

    feedback = xl.exercises.ch04.check_saliency_map(sneaky)
    assert not feedback and "calls xl.saliency" in feedback.title
