/** An error line that screen readers announce when it appears. */
export function FormError({ children }) {
	return (
		<p role="alert" className="error" aria-live="assertive">
			{children}
		</p>
	);
}
