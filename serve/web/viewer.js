// The search page's 3D viewer: WebGL panes over three.js (vendored from npm, see vendor.txt),
// each with orbit controls (rotate, zoom, pan), sized in millimetres. Two panes make a compare
// view: one shared scale from the larger part, views linked. app.js loads this module only when
// three.js is vendored. API data goes into the page as text only (never as HTML).

import * as THREE from "three";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { OBJLoader } from "three/addons/loaders/OBJLoader.js";
import { PLYLoader } from "three/addons/loaders/PLYLoader.js";
import { STLLoader } from "three/addons/loaders/STLLoader.js";
import { toCreasedNormals } from "three/addons/utils/BufferGeometryUtils.js";

const CREASE = Math.PI / 6; // edges sharper than this stay sharp, like the rendered views' edges
const FIT = 1.15; // the larger part's bounding sphere fills 1/FIT of a pane's height
const ISO = new THREE.Vector3(0.612, -0.612, 0.5).normalize(); // the iso_front_right view
const COLORS = { part: 0xb0c4de, query: 0xe3b77f, edges: 0x27303d, background: 0xf3f5f8 };

// Query files the browser draws itself (in the file's units, taken as mm as the service does);
// other formats (STEP, IGES, OFF, 3MF, glTF with external buffers) show their sizes only.
export const DRAWABLE = ["stl", "obj", "ply", "glb"];

export function suffixOf(name) {
  const dot = (name || "").lastIndexOf(".");
  return dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
}

// Whether this browser can draw WebGL at all (a headless or locked-down one may not).
export function webglAvailable() {
  try {
    const canvas = document.createElement("canvas");
    return Boolean(canvas.getContext("webgl2") || canvas.getContext("webgl"));
  } catch (_) {
    return false;
  }
}

// -- loading -------------------------------------------------------------------------------------

// The triangle geometries of an object tree, in its world coordinates.
function geometriesOf(root) {
  root.updateMatrixWorld(true);
  const out = [];
  root.traverse((node) => {
    if (node.isMesh && node.geometry) out.push(node.geometry.clone().applyMatrix4(node.matrixWorld));
  });
  return out;
}

// source: {url} of a stored part's GLB, or {file} of a query upload -> [BufferGeometry] in mm.
async function loadGeometries(source) {
  if (source.url) {
    const gltf = await new GLTFLoader().loadAsync(source.url);
    return geometriesOf(gltf.scene);
  }
  const file = source.file;
  const kind = suffixOf(file.name);
  if (kind === "stl") return [new STLLoader().parse(await file.arrayBuffer())];
  if (kind === "ply") return [new PLYLoader().parse(await file.arrayBuffer())];
  if (kind === "obj") return geometriesOf(new OBJLoader().parse(await file.text()));
  if (kind === "glb") return geometriesOf((await new GLTFLoader().parseAsync(await file.arrayBuffer(), "")).scene);
  throw new Error(`.${kind} files are not drawn in the browser`);
}

// -- numbers -------------------------------------------------------------------------------------

const mm = (value) => String(Math.round(value * 10) / 10);

// "62 × 18 × 18 mm", largest first (orientation-free, as the size filters compare them)
export function extentsText(extents) {
  if (!Array.isArray(extents) || extents.length !== 3 || extents.some((v) => v == null)) {
    return "size unknown";
  }
  return `${[...extents].sort((a, b) => b - a).map(mm).join(" × ")} mm`;
}

// A round scale-bar length (1, 2 or 5 times a power of ten) of at most limit mm.
function roundLength(limit) {
  const power = 10 ** Math.floor(Math.log10(limit));
  return [5, 2, 1].map((f) => f * power).find((v) => v <= limit) || power;
}

// -- one pane ------------------------------------------------------------------------------------

class Pane {
  constructor(element, spec) {
    this.el = element;
    this.spec = spec;
    this.canvas = element.querySelector("canvas");
    this.stage = element.querySelector(".stage");
    this.scaleBar = element.querySelector(".scale-bar");
    this.box = null; // THREE.Box3 of the drawn part, mm
    this.disposables = [];
    element.dataset.state = "loading";
    element.querySelector(".pane-role").textContent = spec.role || "";
    element.querySelector(".pane-title").textContent = spec.title || "";
    element.querySelector(".pane-title").title = spec.partId || "";
    element.querySelector(".pane-match").textContent = spec.match || "";
    element.querySelector(".pane-match").hidden = !spec.match;
    const rows = element.querySelector(".pane-scores tbody");
    rows.append(...(spec.scores || []));
    element.querySelector(".pane-scores").hidden = !(spec.scores || []).length;
    this.showSize(spec.extents);
    if (spec.note) this.note(spec.note);
  }

  showSize(extents) {
    this.el.querySelector(".pane-size").textContent = extentsText(extents);
  }

  note(text) {
    const note = this.el.querySelector(".pane-note");
    note.textContent = text;
    note.hidden = false;
  }

  // Build the renderer and scene; false (and a note) where WebGL fails.
  start() {
    try {
      this.renderer = new THREE.WebGLRenderer({ canvas: this.canvas, antialias: true });
    } catch (err) {
      this.note(`3D view unavailable: ${err.message}`);
      return false;
    }
    this.renderer.setPixelRatio(window.devicePixelRatio || 1);
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(COLORS.background);
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x8a96a8, 1.6));
    this.camera = new THREE.OrthographicCamera(-1, 1, 1, -1, 0.01, 100);
    this.camera.up.set(0, 0, 1); // CAD parts are Z-up, as the rendered views are
    const headlight = new THREE.DirectionalLight(0xffffff, 1.4);
    headlight.position.set(0.4, 0.8, 1); // over the viewer's right shoulder, moving with the camera
    this.camera.add(headlight);
    this.scene.add(this.camera);
    this.controls = new OrbitControls(this.camera, this.canvas);
    this.controls.screenSpacePanning = true;
    return true;
  }

  async load() {
    if (!this.spec.source) {
      this.el.dataset.state = "no-mesh";
      return;
    }
    let geometries;
    try {
      geometries = await loadGeometries(this.spec.source);
      if (!geometries.length) throw new Error("the file holds no triangles");
    } catch (err) {
      this.note(`Not drawn: ${err.message}.`);
      this.el.dataset.state = "error";
      return;
    }
    const material = new THREE.MeshStandardMaterial({
      color: this.spec.query ? COLORS.query : COLORS.part,
      roughness: 0.55,
      metalness: 0.1,
      side: THREE.DoubleSide, // open meshes and flipped faces still show
      polygonOffset: true, // the edge lines draw over the faces they lie on
      polygonOffsetFactor: 1,
      polygonOffsetUnits: 1,
    });
    const edgeMaterial = new THREE.LineBasicMaterial({ color: COLORS.edges });
    this.edges = new THREE.Group();
    this.box = new THREE.Box3();
    for (const raw of geometries) {
      raw.deleteAttribute("normal"); // creased normals: smooth curves, sharp CAD edges
      raw.deleteAttribute("uv");
      const geometry = toCreasedNormals(raw, CREASE);
      const edges = new THREE.EdgesGeometry(raw, 30);
      this.disposables.push(raw, geometry, edges);
      this.scene.add(new THREE.Mesh(geometry, material));
      this.edges.add(new THREE.LineSegments(edges, edgeMaterial));
      geometry.computeBoundingBox();
      this.box.union(geometry.boundingBox);
    }
    this.disposables.push(material, edgeMaterial);
    this.scene.add(this.edges);
    if (!this.spec.extents) {
      const size = this.box.getSize(new THREE.Vector3());
      this.showSize([size.x, size.y, size.z]);
    }
    this.el.dataset.state = "drawn";
  }

  // The part's centre and bounding-sphere radius (mm): its drawn box, else its extents.
  extent() {
    if (this.box && !this.box.isEmpty()) {
      return {
        center: this.box.getCenter(new THREE.Vector3()),
        radius: this.box.getSize(new THREE.Vector3()).length() / 2,
      };
    }
    const e = this.spec.extents;
    const radius = Array.isArray(e) ? Math.hypot(...e.map((v) => Number(v) || 0)) / 2 : 0;
    return { center: new THREE.Vector3(), radius };
  }

  // Look at the part from the iso view, the frame fitting a sphere of radius mm.
  fit(radius) {
    const { center } = this.extent();
    this.center = center;
    this.radius = Math.max(radius, 1e-3);
    this.camera.position.copy(center).addScaledVector(ISO, this.radius * 4);
    this.camera.near = this.radius * 0.01;
    this.camera.far = this.radius * 10;
    this.camera.zoom = 1;
    this.controls.target.copy(center);
    this.resize();
    this.controls.update();
  }

  resize() {
    const width = Math.max(1, this.stage.clientWidth);
    const height = Math.max(1, this.stage.clientHeight);
    this.renderer.setSize(width, height, false);
    const half = (this.radius || 1) * FIT;
    const aspect = width / height;
    Object.assign(this.camera, { left: -half * aspect, right: half * aspect, top: half, bottom: -half });
    this.camera.updateProjectionMatrix();
    this.render();
  }

  render() {
    if (!this.renderer) return;
    this.renderer.render(this.scene, this.camera);
    this.updateScaleBar();
    if (this.el.dataset.state === "drawn") this.el.dataset.state = "ready";
  }

  // A bar of a round length in mm: one bar length means the same in every pane of a compare.
  updateScaleBar() {
    const height = this.stage.clientHeight;
    const pxPerMm = (height * this.camera.zoom) / (this.camera.top - this.camera.bottom);
    if (!(pxPerMm > 0) || !Number.isFinite(pxPerMm)) return;
    const length = roundLength((this.stage.clientWidth * 0.25) / pxPerMm);
    this.scaleBar.style.width = `${length * pxPerMm}px`;
    this.scaleBar.querySelector("span").textContent = `${length} mm`;
    this.scaleBar.dataset.mm = String(length);
  }

  setEdges(on) {
    if (this.edges) this.edges.visible = on;
    this.render();
  }

  dispose() {
    if (this.controls) this.controls.dispose();
    for (const item of this.disposables) item.dispose();
    if (this.renderer) {
      this.renderer.dispose();
      this.renderer.forceContextLoss(); // a browser keeps only a few WebGL contexts
    }
  }
}

// -- the dialog ----------------------------------------------------------------------------------

export class Viewer {
  // dialog: the page's <dialog id="viewer">; template: the pane <template>
  constructor(dialog, template) {
    this.dialog = dialog;
    this.template = template;
    this.panes = [];
    this.syncing = false;
    this.title = dialog.querySelector("#viewer-title");
    this.paneBox = dialog.querySelector("#viewer-panes");
    this.other = dialog.querySelector("#viewer-other");
    this.edgesBox = dialog.querySelector("#viewer-edges");
    this.linkBox = dialog.querySelector("#viewer-link");
    dialog.querySelector("#viewer-close").addEventListener("click", () => dialog.close());
    dialog.querySelector("#viewer-reset").addEventListener("click", () => this.fitAll());
    this.edgesBox.addEventListener("change", () => {
      for (const pane of this.panes) pane.setEdges(this.edgesBox.checked);
    });
    this.other.addEventListener("change", () => this.onOther && this.onOther(this.other.value));
    dialog.addEventListener("close", () => this.clear());
    this.resizer = new ResizeObserver(() => {
      for (const pane of this.panes) if (pane.renderer) pane.resize();
    });
  }

  // specs: one pane (a part's 3D view) or two (a compare view), each
  //   {role, title, partId, source: {url} | {file} | null, extents (mm), note, match,
  //    scores (the page's own table rows of the per-pair cosines), query}
  // options: {title, others: [{value, label}], chosen, onOther(value)}: a "Compare with" menu
  async show(specs, options = {}) {
    this.clear();
    const token = (this.token = {});
    this.title.textContent = options.title || "";
    this.dialog.classList.toggle("compare", specs.length > 1);
    this.dialog.querySelector("#viewer-link-box").hidden = specs.length < 2;
    this.showOthers(options);
    this.dialog.dataset.state = "loading";
    this.panes = specs.map((spec) => {
      const element = this.template.content.firstElementChild.cloneNode(true);
      this.paneBox.append(element);
      return new Pane(element, spec);
    });
    if (!this.dialog.open) this.dialog.showModal();
    const started = this.panes.filter((pane) => pane.start());
    await Promise.all(started.map((pane) => pane.load()));
    if (token !== this.token) return; // closed, or replaced by another view meanwhile
    for (const pane of started) {
      pane.controls.addEventListener("change", () => this.changed(pane));
      this.resizer.observe(pane.stage);
      pane.setEdges(this.edgesBox.checked);
    }
    this.fitAll();
    this.dialog.dataset.state = "ready";
  }

  showOthers({ others, chosen, onOther }) {
    const box = this.dialog.querySelector(".viewer-other");
    box.hidden = !others || !others.length;
    this.onOther = onOther || null;
    this.other.replaceChildren(
      ...(others || []).map(({ value, label }) => {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = label;
        return option;
      }),
    );
    if (chosen != null) this.other.value = chosen;
  }

  // One scale for all panes: the frame fits the largest part's bounding sphere.
  fitAll() {
    const live = this.panes.filter((pane) => pane.renderer);
    const radius = Math.max(0, ...this.panes.map((pane) => pane.extent().radius));
    this.syncing = true;
    for (const pane of live) pane.fit(radius);
    this.syncing = false;
  }

  // A pane's camera moved: draw it, and move the others alike when the views are linked.
  changed(source) {
    source.render();
    if (this.syncing || !this.linkBox.checked) return;
    this.syncing = true;
    const offset = source.camera.position.clone().sub(source.center);
    const target = source.controls.target.clone().sub(source.center);
    for (const pane of this.panes) {
      if (pane === source || !pane.renderer) continue;
      pane.camera.position.copy(pane.center).add(offset);
      pane.camera.up.copy(source.camera.up);
      pane.camera.zoom = source.camera.zoom;
      pane.camera.updateProjectionMatrix();
      pane.controls.target.copy(pane.center).add(target);
      pane.controls.update();
      pane.render();
    }
    this.syncing = false;
  }

  clear() {
    this.token = null;
    this.resizer.disconnect();
    for (const pane of this.panes) pane.dispose();
    this.panes = [];
    this.paneBox.replaceChildren();
    delete this.dialog.dataset.state;
  }
}
